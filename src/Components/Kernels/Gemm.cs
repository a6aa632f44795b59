using System.Runtime.Intrinsics.X86;
using Pipelines.Components.Compute;

namespace Pipelines.Components.Kernels;

/// <summary>
/// General matrix product of row-major float32 matrices: C = alpha·op(A)·op(B) + beta·C.
/// </summary>
/// <remarks>
/// Goto/BLIS blocking (Goto and van de Geijn, "Anatomy of high-performance matrix multiplication", 2008;
/// Van Zee and van de Geijn, "BLIS", 2015): op(B) is packed in kc×nc blocks, op(A) in mc×kc blocks, and a
/// register-blocked micro-kernel (AVX-512, AVX2/FMA or scalar) multiplies mr×kc by kc×nr panels.
/// Every element of C is a fused multiply-add chain over k in ascending order, restarted at each kc block
/// (whose bounds depend on k only), so results are bit-identical for any thread count and tile position
/// on a given machine.
/// </remarks>
public static partial class Gemm
{
    /// <summary>Below this many multiply-adds (m·n·k) the product runs on the calling thread only.</summary>
    private const long ParallelThreshold = 96L * 96 * 96;

    /// <summary>
    /// C[m,n] = alpha·op(A)[m,k]·op(B)[k,n] + beta·C, all row-major with leading dimensions.
    /// </summary>
    /// <remarks>
    /// op(A) is A (stored m×k, <paramref name="leadingA"/> ≥ k) or, when <paramref name="transposeA"/>, Aᵀ
    /// (A stored k×m, <paramref name="leadingA"/> ≥ m); likewise for B (stored k×n or n×k). When
    /// <paramref name="beta"/> is 0, C's old contents are ignored (NaN included); when
    /// <paramref name="alpha"/> is 0 or k is 0, A and B are not read and C = beta·C.
    /// </remarks>
    /// <param name="a">A's elements.</param>
    /// <param name="leadingA">Distance between consecutive rows of A as stored.</param>
    /// <param name="transposeA">Use Aᵀ.</param>
    /// <param name="b">B's elements.</param>
    /// <param name="leadingB">Distance between consecutive rows of B as stored.</param>
    /// <param name="transposeB">Use Bᵀ.</param>
    /// <param name="c">C's elements; overwritten with the result.</param>
    /// <param name="leadingC">Distance between consecutive rows of C (≥ n).</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of C's old contents.</param>
    /// <param name="parallelism">Threads to use; the result does not depend on it.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative or a leading dimension is too small.</exception>
    /// <exception cref="ArgumentException">A span is too short for its sizes and leading dimension.</exception>
    public static void Multiply(
        ReadOnlySpan<float> a, int leadingA, bool transposeA,
        ReadOnlySpan<float> b, int leadingB, bool transposeB,
        Span<float> c, int leadingC,
        int m, int n, int k, float alpha, float beta, Parallelism parallelism) =>
        Multiply(a, leadingA, transposeA, b, leadingB, transposeB, c, leadingC, m, n, k, alpha, beta, parallelism, BestKernel);

    /// <summary>The same product with a chosen micro-kernel (tests run every kernel this machine supports).</summary>
    internal static void Multiply(
        ReadOnlySpan<float> a, int leadingA, bool transposeA,
        ReadOnlySpan<float> b, int leadingB, bool transposeB,
        Span<float> c, int leadingC,
        int m, int n, int k, float alpha, float beta, Parallelism parallelism, MicroKernel kernel) =>
        Multiply(a, leadingA, transposeA, b, leadingB, transposeB, [], c, leadingC, m, n, k, alpha, beta, parallelism, kernel);

    /// <summary>
    /// C[m,n] = alpha·op(A)[m,k]·op(B)[k,n] + bias[n] added to every row (C's old contents are ignored), or
    /// alpha·op(A)·op(B) for an empty <paramref name="columnBias"/>; otherwise as <see cref="Multiply(ReadOnlySpan{float}, int, bool, ReadOnlySpan{float}, int, bool, Span{float}, int, int, int, int, float, float, Parallelism)"/>.
    /// </summary>
    /// <remarks>
    /// Bit-identical to <see cref="Multiply(ReadOnlySpan{float}, int, bool, ReadOnlySpan{float}, int, bool, Span{float}, int, int, int, int, float, float, Parallelism)"/>
    /// with beta = 1 on a C holding the bias in every row, without writing C first: the first k-block's
    /// micro-kernel store adds the bias where it would have added C.
    /// </remarks>
    internal static void MultiplyWithBias(
        ReadOnlySpan<float> a, int leadingA, bool transposeA,
        ReadOnlySpan<float> b, int leadingB, bool transposeB,
        ReadOnlySpan<float> columnBias, Span<float> c, int leadingC,
        int m, int n, int k, float alpha, Parallelism parallelism) =>
        MultiplyWithBias(a, leadingA, transposeA, b, leadingB, transposeB, columnBias, c, leadingC, m, n, k, alpha, parallelism, BestKernel);

    /// <summary>The bias product with a chosen micro-kernel.</summary>
    internal static void MultiplyWithBias(
        ReadOnlySpan<float> a, int leadingA, bool transposeA,
        ReadOnlySpan<float> b, int leadingB, bool transposeB,
        ReadOnlySpan<float> columnBias, Span<float> c, int leadingC,
        int m, int n, int k, float alpha, Parallelism parallelism, MicroKernel kernel)
    {
        if (!columnBias.IsEmpty && columnBias.Length != n)
            throw new ArgumentException($"columnBias has {columnBias.Length} elements but C has {n} columns.", nameof(columnBias));
        Multiply(a, leadingA, transposeA, b, leadingB, transposeB, columnBias, c, leadingC, m, n, k, alpha, columnBias.IsEmpty ? 0f : 1f, parallelism, kernel);
    }

    /// <summary>Both entries: with a bias, beta is 1 and applies to the bias in place of C's old contents.</summary>
    private static unsafe void Multiply(
        ReadOnlySpan<float> a, int leadingA, bool transposeA,
        ReadOnlySpan<float> b, int leadingB, bool transposeB,
        ReadOnlySpan<float> columnBias, Span<float> c, int leadingC,
        int m, int n, int k, float alpha, float beta, Parallelism parallelism, MicroKernel kernel)
    {
        Validate(a.Length, leadingA, transposeA, b.Length, leadingB, transposeB, c.Length, leadingC, m, n, k);
        if (!IsSupported(kernel)) throw new ArgumentException($"The {kernel} micro-kernel is not supported on this machine.", nameof(kernel));
        if (m == 0 || n == 0) return;

        fixed (float* biasPointer = columnBias)
        fixed (float* cPointer = c)
        {
            if (k == 0 || alpha == 0)
            {
                if (biasPointer == null) ScaleOnly(cPointer, leadingC, m, n, beta);
                else BroadcastRows(biasPointer, cPointer, leadingC, m, n);
                return;
            }

            fixed (float* aPointer = a)
            fixed (float* bPointer = b)
            {
                var problem = new Problem(
                    aPointer, leadingA, transposeA, bPointer, leadingB, transposeB, biasPointer, cPointer, leadingC,
                    m, n, k, alpha, beta, kernel);
                Run(problem, parallelism);
            }
        }
    }

    /// <summary>Splits C between threads along its longer side, in whole micro-tiles, and runs each part.</summary>
    private static void Run(Problem problem, Parallelism parallelism)
    {
        var (rowTile, columnTile) = TileShape(problem.Kernel);
        var threads = (long)problem.M * problem.N * problem.K < ParallelThreshold ? 1 : parallelism.ThreadCount;
        var splitRows = problem.M >= problem.N;
        var tile = splitRows ? rowTile : columnTile;
        var extent = splitRows ? problem.M : problem.N;
        var tiles = (extent + tile - 1) / tile;
        if (threads == 1 || tiles < 2)
        {
            MultiplyRegion(problem, 0, problem.M, 0, problem.N);
            return;
        }

        new Parallelism(threads).For(tiles, new Split(problem, tile, extent, splitRows), static (split, startTile, endTile) =>
        {
            var start = startTile * split.Tile;
            var end = Math.Min(split.Extent, endTile * split.Tile);
            if (split.Rows) MultiplyRegion(split.Problem, start, end, 0, split.Problem.N);
            else MultiplyRegion(split.Problem, 0, split.Problem.M, start, end);
        });
    }

    /// <summary>How <see cref="Run"/> divides C: along rows or columns, in tiles of <c>Tile</c>, up to <c>Extent</c>.</summary>
    private readonly record struct Split(Problem Problem, int Tile, int Extent, bool Rows);

    private static void Validate(
        int aLength, int leadingA, bool transposeA, int bLength, int leadingB, bool transposeB,
        int cLength, int leadingC, int m, int n, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ValidateMatrix(aLength, leadingA, transposeA ? k : m, transposeA ? m : k, "a", nameof(leadingA));
        ValidateMatrix(bLength, leadingB, transposeB ? n : k, transposeB ? k : n, "b", nameof(leadingB));
        ValidateMatrix(cLength, leadingC, m, n, "c", nameof(leadingC));
    }

    private static void ValidateMatrix(int length, int leading, int rows, int columns, string spanName, string leadingName)
    {
        if (leading < Math.Max(1, columns))
            throw new ArgumentOutOfRangeException(leadingName, leading, $"{leadingName} must be at least max(1, {columns}), the stored row width.");
        if (rows == 0 || columns == 0) return;
        var needed = (long)(rows - 1) * leading + columns;
        if (length < needed)
            throw new ArgumentException($"{spanName} has {length} elements but a {rows}×{columns} matrix with leading dimension {leading} needs {needed}.", spanName);
    }

    /// <summary>C = beta·C (beta = 0 writes zeros whatever C held).</summary>
    private static unsafe void ScaleOnly(float* c, int leadingC, int m, int n, float beta)
    {
        if (beta == 1) return;
        for (var row = 0; row < m; row++)
        {
            var span = new Span<float>(c + (long)row * leadingC, n);
            if (beta == 0) span.Clear();
            else System.Numerics.Tensors.TensorPrimitives.Multiply(span, beta, span);
        }
    }

    /// <summary>C = the bias row in every row (what the bias product is when nothing is multiplied).</summary>
    private static unsafe void BroadcastRows(float* bias, float* c, int leadingC, int m, int n)
    {
        var row = new ReadOnlySpan<float>(bias, n);
        for (var index = 0; index < m; index++) row.CopyTo(new Span<float>(c + (long)index * leadingC, n));
    }

    /// <summary>
    /// Everything one product needs, as raw pointers so that worker threads can share it. A non-null
    /// <c>Bias</c> (n values) stands in for C's old contents in the first k-block.
    /// </summary>
    private readonly unsafe struct Problem(
        float* a, int leadingA, bool transposeA, float* b, int leadingB, bool transposeB, float* bias, float* c, int leadingC,
        int m, int n, int k, float alpha, float beta, MicroKernel kernel)
    {
        public readonly float* A = a;
        public readonly int LeadingA = leadingA;
        public readonly bool TransposeA = transposeA;
        public readonly float* B = b;
        public readonly int LeadingB = leadingB;
        public readonly bool TransposeB = transposeB;
        public readonly float* Bias = bias;
        public readonly float* C = c;
        public readonly int LeadingC = leadingC;
        public readonly int M = m;
        public readonly int N = n;
        public readonly int K = k;
        public readonly float Alpha = alpha;
        public readonly float Beta = beta;
        public readonly MicroKernel Kernel = kernel;
    }
}
