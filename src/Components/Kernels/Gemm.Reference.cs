namespace Pipelines.Components.Kernels;

public static partial class Gemm
{
    /// <summary>The plain triple loop that <see cref="Gemm.Multiply(ReadOnlySpan{float}, int, bool, ReadOnlySpan{float}, int, bool, Span{float}, int, int, int, int, float, float, Compute.Parallelism)"/> is tested against.</summary>
    public static class Reference
    {
        /// <summary>C[m,n] = alpha·op(A)[m,k]·op(B)[k,n] + beta·C, single-threaded; same contract as the fast version.</summary>
        /// <param name="a">A's elements.</param>
        /// <param name="leadingA">Distance between consecutive rows of A as stored.</param>
        /// <param name="transposeA">Use Aᵀ.</param>
        /// <param name="b">B's elements.</param>
        /// <param name="leadingB">Distance between consecutive rows of B as stored.</param>
        /// <param name="transposeB">Use Bᵀ.</param>
        /// <param name="c">C's elements; overwritten with the result.</param>
        /// <param name="leadingC">Distance between consecutive rows of C.</param>
        /// <param name="m">Rows of op(A) and C.</param>
        /// <param name="n">Columns of op(B) and C.</param>
        /// <param name="k">Columns of op(A), rows of op(B).</param>
        /// <param name="alpha">Scale of the product.</param>
        /// <param name="beta">Scale of C's old contents (0 ignores them).</param>
        /// <exception cref="ArgumentOutOfRangeException">A size is negative or a leading dimension is too small.</exception>
        /// <exception cref="ArgumentException">A span is too short for its sizes and leading dimension.</exception>
        public static void Multiply(
            ReadOnlySpan<float> a, int leadingA, bool transposeA,
            ReadOnlySpan<float> b, int leadingB, bool transposeB,
            Span<float> c, int leadingC,
            int m, int n, int k, float alpha, float beta)
        {
            Validate(a.Length, leadingA, transposeA, b.Length, leadingB, transposeB, c.Length, leadingC, m, n, k);
            for (var row = 0; row < m; row++)
            {
                for (var column = 0; column < n; column++)
                {
                    var sum = 0f;
                    if (alpha != 0)
                    {
                        for (var depth = 0; depth < k; depth++)
                        {
                            var left = transposeA ? a[depth * leadingA + row] : a[row * leadingA + depth];
                            var right = transposeB ? b[column * leadingB + depth] : b[depth * leadingB + column];
                            sum += left * right;
                        }
                    }

                    ref var target = ref c[row * leadingC + column];
                    target = beta == 0 ? alpha * sum : alpha * sum + beta * target;
                }
            }
        }
    }
}
