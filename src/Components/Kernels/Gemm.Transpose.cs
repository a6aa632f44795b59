using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Pipelines.Components.Kernels;

public static partial class Gemm
{
    /// <summary>
    /// AVX-512 form of <see cref="PackTranspose"/>: 16×16 blocks are transposed in registers, so packing a
    /// row-major A (or a transposed B) costs a few shuffles per element instead of a strided scalar store.
    /// </summary>
    private static unsafe void PackTranspose512(float* source, int leading, int depth, int count, float* destination, int width)
    {
        var full = depth & ~15;
        for (var group = 0; group < width; group += 16)
        {
            var lanes = Math.Min(16, width - group);
            var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(lanes)).AsSingle();
            var rows = Math.Clamp(count - group, 0, 16);
            var groupSource = source + (long)group * leading;
            for (var d = 0; d < full; d += 16)
                Transpose16x16(groupSource + d, leading, rows, destination + (long)d * width + group, width, mask);
        }

        // The last depth % 16 values, one at a time.
        for (var i = 0; i < width; i++)
        {
            for (var d = full; d < depth; d++)
                destination[(long)d * width + i] = i < count ? source[(long)i * leading + d] : 0f;
        }
    }

    /// <summary>
    /// destination[l·stride + r] = source[r·leading + l] for r, l &lt; 16 (rows r ≥ <paramref name="rows"/> read
    /// as zero), storing only the lanes set in <paramref name="mask"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Transpose16x16(float* source, int leading, int rows, float* destination, int stride, Vector512<float> mask)
    {
        var r0 = Row(source, leading, 0, rows); var r1 = Row(source, leading, 1, rows);
        var r2 = Row(source, leading, 2, rows); var r3 = Row(source, leading, 3, rows);
        var r4 = Row(source, leading, 4, rows); var r5 = Row(source, leading, 5, rows);
        var r6 = Row(source, leading, 6, rows); var r7 = Row(source, leading, 7, rows);
        var r8 = Row(source, leading, 8, rows); var r9 = Row(source, leading, 9, rows);
        var r10 = Row(source, leading, 10, rows); var r11 = Row(source, leading, 11, rows);
        var r12 = Row(source, leading, 12, rows); var r13 = Row(source, leading, 13, rows);
        var r14 = Row(source, leading, 14, rows); var r15 = Row(source, leading, 15, rows);

        // Stage 1: interleave pairs of rows within each 128-bit lane.
        var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
        var t8 = Avx512F.UnpackLow(r8, r9); var t9 = Avx512F.UnpackHigh(r8, r9);
        var t10 = Avx512F.UnpackLow(r10, r11); var t11 = Avx512F.UnpackHigh(r10, r11);
        var t12 = Avx512F.UnpackLow(r12, r13); var t13 = Avx512F.UnpackHigh(r12, r13);
        var t14 = Avx512F.UnpackLow(r14, r15); var t15 = Avx512F.UnpackHigh(r14, r15);

        // Stage 2: lane j of u(4g + q) now holds column 4j + q of rows 4g..4g+3.
        var u0 = UnpackLow64(t0, t2); var u1 = UnpackHigh64(t0, t2); var u2 = UnpackLow64(t1, t3); var u3 = UnpackHigh64(t1, t3);
        var u4 = UnpackLow64(t4, t6); var u5 = UnpackHigh64(t4, t6); var u6 = UnpackLow64(t5, t7); var u7 = UnpackHigh64(t5, t7);
        var u8 = UnpackLow64(t8, t10); var u9 = UnpackHigh64(t8, t10); var u10 = UnpackLow64(t9, t11); var u11 = UnpackHigh64(t9, t11);
        var u12 = UnpackLow64(t12, t14); var u13 = UnpackHigh64(t12, t14); var u14 = UnpackLow64(t13, t15); var u15 = UnpackHigh64(t13, t15);

        // Stage 3: gather lane j of the four row groups into output row 4j + q.
        StoreColumns(u0, u4, u8, u12, destination, stride, mask);
        StoreColumns(u1, u5, u9, u13, destination + stride, stride, mask);
        StoreColumns(u2, u6, u10, u14, destination + 2 * stride, stride, mask);
        StoreColumns(u3, u7, u11, u15, destination + 3 * stride, stride, mask);
    }

    /// <summary>Writes output rows q, q + 4, q + 8, q + 12 (q fixed by <paramref name="destination"/>) from the stage-2 vectors of column q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreColumns(Vector512<float> rows0, Vector512<float> rows4, Vector512<float> rows8, Vector512<float> rows12, float* destination, int stride, Vector512<float> mask)
    {
        const byte evenLanes = 0b10_00_10_00, oddLanes = 0b11_01_11_01;
        var low0 = Avx512F.Shuffle4x128(rows0, rows4, evenLanes);
        var high0 = Avx512F.Shuffle4x128(rows0, rows4, oddLanes);
        var low8 = Avx512F.Shuffle4x128(rows8, rows12, evenLanes);
        var high8 = Avx512F.Shuffle4x128(rows8, rows12, oddLanes);
        Avx512F.MaskStore(destination, mask, Avx512F.Shuffle4x128(low0, low8, evenLanes));
        Avx512F.MaskStore(destination + 4 * stride, mask, Avx512F.Shuffle4x128(high0, high8, evenLanes));
        Avx512F.MaskStore(destination + 8 * stride, mask, Avx512F.Shuffle4x128(low0, low8, oddLanes));
        Avx512F.MaskStore(destination + 12 * stride, mask, Avx512F.Shuffle4x128(high0, high8, oddLanes));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> Row(float* source, int leading, int row, int rows) =>
        row < rows ? Vector512.Load(source + (long)row * leading) : Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> UnpackLow64(Vector512<float> left, Vector512<float> right) =>
        Avx512F.UnpackLow(left.AsDouble(), right.AsDouble()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> UnpackHigh64(Vector512<float> left, Vector512<float> right) =>
        Avx512F.UnpackHigh(left.AsDouble(), right.AsDouble()).AsSingle();
}
