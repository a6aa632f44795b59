using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Pipelines.Components.Kernels;

/// <summary>The register-blocked inner kernels of <see cref="Gemm"/>.</summary>
internal enum MicroKernel
{
    /// <summary>Plain scalar code, 4×4 tiles: any machine.</summary>
    Scalar,

    /// <summary>AVX2 + FMA, 6×16 tiles (12 of the 16 ymm registers accumulate).</summary>
    Vector256,

    /// <summary>AVX-512F, 12×32 tiles (24 of the 32 zmm registers accumulate); 4×32 and 8×32 for the last rows.</summary>
    Vector512,
}

public static partial class Gemm
{
    /// <summary>The fastest micro-kernel this machine supports.</summary>
    internal static MicroKernel BestKernel =>
        Avx512F.IsSupported ? MicroKernel.Vector512
        : Fma.IsSupported && Avx.IsSupported ? MicroKernel.Vector256
        : MicroKernel.Scalar;

    internal static bool IsSupported(MicroKernel kernel) => kernel switch
    {
        MicroKernel.Vector512 => Avx512F.IsSupported,
        MicroKernel.Vector256 => Fma.IsSupported && Avx.IsSupported,
        MicroKernel.Scalar => true,
        _ => false,
    };

    /// <summary>Rows (mr) and columns (nr) of the C tile one micro-kernel call computes.</summary>
    internal static (int Rows, int Columns) TileShape(MicroKernel kernel) => kernel switch
    {
        MicroKernel.Vector512 => (12, 32),
        MicroKernel.Vector256 => (6, 16),
        _ => (4, 4),
    };

    /// <summary>
    /// C[tile] = alpha·(packed A panel · packed B panel) + beta·S[tile], where the addend S is C itself
    /// (<paramref name="addend"/> = <paramref name="c"/>) or a bias row repeated down the tile (<paramref name="addendLeading"/> = 0);
    /// beta = 0 does not read S. The tile has <paramref name="rows"/> rows, a value returned by <see cref="KernelRows"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void RunMicroKernel(
        MicroKernel kernel, int rows, int depth, float* a, float* b, float* c, int leadingC, float* addend, int addendLeading, float alpha, float beta)
    {
        switch (kernel)
        {
            case MicroKernel.Vector512 when rows == 12: Kernel512<TwelveRows>(depth, a, b, c, leadingC, addend, addendLeading, alpha, beta); break;
            case MicroKernel.Vector512 when rows == 8: Kernel512<EightRows>(depth, a, b, c, leadingC, addend, addendLeading, alpha, beta); break;
            case MicroKernel.Vector512: Kernel512<FourRows>(depth, a, b, c, leadingC, addend, addendLeading, alpha, beta); break;
            case MicroKernel.Vector256: Kernel6x16(depth, a, b, c, leadingC, addend, addendLeading, alpha, beta); break;
            default: Kernel4x4(depth, a, b, c, leadingC, addend, addendLeading, alpha, beta); break;
        }
    }

    /// <summary>Rows the micro-kernel computes for a tile of <paramref name="rows"/> rows (more means a scratch tile).</summary>
    private static int KernelRows(MicroKernel kernel, int rows) =>
        kernel == MicroKernel.Vector512 ? RoundUp(rows, 4) : TileShape(kernel).Rows;

    /// <summary>A row count known at JIT time: each instantiation of <see cref="Kernel512"/> keeps only its accumulators.</summary>
    private interface IRowCount
    {
        static abstract int Value { get; }
    }

    private readonly struct FourRows : IRowCount
    {
        public static int Value => 4;
    }

    private readonly struct EightRows : IRowCount
    {
        public static int Value => 8;
    }

    private readonly struct TwelveRows : IRowCount
    {
        public static int Value => 12;
    }

    /// <summary>
    /// AVX-512 kernel for a 4-, 8- or 12-row × 32-column tile (A panels are 12 wide whatever the count). The
    /// narrower forms serve the last rows of C; every element still gets the same fused multiply-add chain.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel512<TRows>(int depth, float* a, float* b, float* c, int leadingC, float* addend, int addendLeading, float alpha, float beta)
        where TRows : struct, IRowCount
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, cA0 = default, cA1 = default, cB0 = default, cB1 = default;
        PrefetchTile(c, leadingC, TRows.Value, 2);
        for (var d = 0; d < depth; d++, a += 12, b += 32)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]); c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]); c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]); c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]); c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            if (TRows.Value > 4)
            {
                x = Vector512.Create(a[4]); c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
                x = Vector512.Create(a[5]); c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
                x = Vector512.Create(a[6]); c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
                x = Vector512.Create(a[7]); c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
            }

            if (TRows.Value > 8)
            {
                x = Vector512.Create(a[8]); c80 = Avx512F.FusedMultiplyAdd(x, b0, c80); c81 = Avx512F.FusedMultiplyAdd(x, b1, c81);
                x = Vector512.Create(a[9]); c90 = Avx512F.FusedMultiplyAdd(x, b0, c90); c91 = Avx512F.FusedMultiplyAdd(x, b1, c91);
                x = Vector512.Create(a[10]); cA0 = Avx512F.FusedMultiplyAdd(x, b0, cA0); cA1 = Avx512F.FusedMultiplyAdd(x, b1, cA1);
                x = Vector512.Create(a[11]); cB0 = Avx512F.FusedMultiplyAdd(x, b0, cB0); cB1 = Avx512F.FusedMultiplyAdd(x, b1, cB1);
            }
        }

        var scale = Vector512.Create(alpha);
        var keep = Vector512.Create(beta);
        var overwrite = beta == 0;
        Store512(c, addend, c00, c01, scale, keep, overwrite); c += leadingC; addend += addendLeading;
        Store512(c, addend, c10, c11, scale, keep, overwrite); c += leadingC; addend += addendLeading;
        Store512(c, addend, c20, c21, scale, keep, overwrite); c += leadingC; addend += addendLeading;
        Store512(c, addend, c30, c31, scale, keep, overwrite);
        if (TRows.Value > 4)
        {
            c += leadingC; addend += addendLeading; Store512(c, addend, c40, c41, scale, keep, overwrite);
            c += leadingC; addend += addendLeading; Store512(c, addend, c50, c51, scale, keep, overwrite);
            c += leadingC; addend += addendLeading; Store512(c, addend, c60, c61, scale, keep, overwrite);
            c += leadingC; addend += addendLeading; Store512(c, addend, c70, c71, scale, keep, overwrite);
        }

        if (TRows.Value > 8)
        {
            c += leadingC; addend += addendLeading; Store512(c, addend, c80, c81, scale, keep, overwrite);
            c += leadingC; addend += addendLeading; Store512(c, addend, c90, c91, scale, keep, overwrite);
            c += leadingC; addend += addendLeading; Store512(c, addend, cA0, cA1, scale, keep, overwrite);
            c += leadingC; addend += addendLeading; Store512(c, addend, cB0, cB1, scale, keep, overwrite);
        }
    }

    /// <summary>
    /// Starts loading the C tile into L1 while the k-loop runs: C is only touched once per kc block, so
    /// without this the epilogue waits for up to 24 cache misses (C does not fit in L2 for n ≥ 512).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchTile(float* c, int leadingC, int rows, int cacheLines)
    {
        for (var row = 0; row < rows; row++, c += leadingC)
        {
            for (var line = 0; line < cacheLines; line++) Sse.Prefetch0(c + 16 * line);
        }
    }

    /// <summary>One 32-wide row of a tile: C = alpha·sum (beta = 0) or fma(alpha, sum, beta·S) for the addend row S.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store512(
        float* c, float* addend, Vector512<float> sum0, Vector512<float> sum1, Vector512<float> alpha, Vector512<float> beta, bool overwrite)
    {
        if (overwrite)
        {
            Vector512.Store(sum0 * alpha, c);
            Vector512.Store(sum1 * alpha, c + 16);
        }
        else
        {
            Vector512.Store(Avx512F.FusedMultiplyAdd(sum0, alpha, Vector512.Load(addend) * beta), c);
            Vector512.Store(Avx512F.FusedMultiplyAdd(sum1, alpha, Vector512.Load(addend + 16) * beta), c + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel6x16(int depth, float* a, float* b, float* c, int leadingC, float* addend, int addendLeading, float alpha, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        PrefetchTile(c, leadingC, 6, 1);
        for (var d = 0; d < depth; d++, a += 6, b += 16)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a[0]); c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]); c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]); c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]); c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]); c40 = Fma.MultiplyAdd(x, b0, c40); c41 = Fma.MultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]); c50 = Fma.MultiplyAdd(x, b0, c50); c51 = Fma.MultiplyAdd(x, b1, c51);
        }

        var scale = Vector256.Create(alpha);
        var keep = Vector256.Create(beta);
        var overwrite = beta == 0;
        Store256(c, addend, c00, c01, scale, keep, overwrite); c += leadingC; addend += addendLeading;
        Store256(c, addend, c10, c11, scale, keep, overwrite); c += leadingC; addend += addendLeading;
        Store256(c, addend, c20, c21, scale, keep, overwrite); c += leadingC; addend += addendLeading;
        Store256(c, addend, c30, c31, scale, keep, overwrite); c += leadingC; addend += addendLeading;
        Store256(c, addend, c40, c41, scale, keep, overwrite); c += leadingC; addend += addendLeading;
        Store256(c, addend, c50, c51, scale, keep, overwrite);
    }

    /// <summary>One 16-wide row of a tile, as <see cref="Store512"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store256(
        float* c, float* addend, Vector256<float> sum0, Vector256<float> sum1, Vector256<float> alpha, Vector256<float> beta, bool overwrite)
    {
        if (overwrite)
        {
            Vector256.Store(sum0 * alpha, c);
            Vector256.Store(sum1 * alpha, c + 8);
        }
        else
        {
            Vector256.Store(Fma.MultiplyAdd(sum0, alpha, Vector256.Load(addend) * beta), c);
            Vector256.Store(Fma.MultiplyAdd(sum1, alpha, Vector256.Load(addend + 8) * beta), c + 8);
        }
    }

    private static unsafe void Kernel4x4(int depth, float* a, float* b, float* c, int leadingC, float* addend, int addendLeading, float alpha, float beta)
    {
        var sums = stackalloc float[16];
        for (var i = 0; i < 16; i++) sums[i] = 0;
        for (var d = 0; d < depth; d++, a += 4, b += 4)
        {
            for (var row = 0; row < 4; row++)
            {
                var x = a[row];
                for (var column = 0; column < 4; column++) sums[row * 4 + column] += x * b[column];
            }
        }

        for (var row = 0; row < 4; row++, c += leadingC, addend += addendLeading)
        {
            for (var column = 0; column < 4; column++)
            {
                var sum = sums[row * 4 + column];
                c[column] = beta == 0 ? alpha * sum : alpha * sum + beta * addend[column];
            }
        }
    }
}
