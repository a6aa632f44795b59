using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Kernels;

[TestClass]
public sealed class GemmTests
{
    private static readonly MicroKernel[] Kernels = [.. Enum.GetValues<MicroKernel>().Where(Gemm.IsSupported)];

    /// <summary>One product laid out with padded leading dimensions; C's padding holds a sentinel.</summary>
    private sealed class Case
    {
        private const float Sentinel = -12345f;

        public Case(int m, int n, int k, bool transposeA, bool transposeB, int padding, float beta, int seed)
        {
            (M, N, K, TransposeA, TransposeB) = (m, n, k, transposeA, transposeB);
            LeadingA = (transposeA ? m : k) + padding;
            LeadingB = (transposeB ? k : n) + padding;
            LeadingC = n + padding;
            A = GradientCheck.RandomArray(Math.Max(1, (transposeA ? k : m) * LeadingA), seed);
            B = GradientCheck.RandomArray(Math.Max(1, (transposeB ? n : k) * LeadingB), seed + 1);
            InitialC = GradientCheck.RandomArray(Math.Max(1, m * LeadingC), seed + 2);
            for (var row = 0; row < m; row++)
            {
                for (var column = 0; column < LeadingC; column++)
                {
                    ref var value = ref InitialC[row * LeadingC + column];
                    if (column >= n) value = Sentinel;
                    else if (beta == 0) value = float.NaN;
                }
            }
        }

        public int M { get; }
        public int N { get; }
        public int K { get; }
        public bool TransposeA { get; }
        public bool TransposeB { get; }
        public int LeadingA { get; }
        public int LeadingB { get; }
        public int LeadingC { get; }
        public float[] A { get; }
        public float[] B { get; }
        public float[] InitialC { get; }

        public float[] Fast(float alpha, float beta, int threads, MicroKernel kernel)
        {
            var c = (float[])InitialC.Clone();
            Gemm.Multiply(A, LeadingA, TransposeA, B, LeadingB, TransposeB, c, LeadingC, M, N, K, alpha, beta, new Parallelism(threads), kernel);
            return c;
        }

        public float[] Reference(float alpha, float beta)
        {
            var c = (float[])InitialC.Clone();
            Gemm.Reference.Multiply(A, LeadingA, TransposeA, B, LeadingB, TransposeB, c, LeadingC, M, N, K, alpha, beta);
            return c;
        }

        /// <summary>|alpha|·|op(A)|·|op(B)| + |beta|·|C|: the scale of each element's rounding error.</summary>
        public float[] Magnitude(float alpha, float beta)
        {
            var c = InitialC.Select(Math.Abs).ToArray();
            float[] absoluteA = [.. A.Select(Math.Abs)], absoluteB = [.. B.Select(Math.Abs)];
            Gemm.Reference.Multiply(absoluteA, LeadingA, TransposeA, absoluteB, LeadingB, TransposeB, c, LeadingC, M, N, K, Math.Abs(alpha), Math.Abs(beta));
            return c;
        }

        public void AssertMatches(float[] expected, float[] magnitude, float[] actual, string what)
        {
            var tolerance = (K + 4) * 1.2e-7;
            for (var row = 0; row < M; row++)
            {
                for (var column = 0; column < LeadingC; column++)
                {
                    var index = row * LeadingC + column;
                    if (column >= N)
                    {
                        Assert.AreEqual(Sentinel, actual[index], $"{what}: padding of C at row {row}, column {column} was written.");
                        continue;
                    }

                    Assert.IsTrue(float.IsFinite(actual[index]), $"{what}: C[{row},{column}] = {actual[index]}.");
                    var bound = tolerance * magnitude[index] + 1e-6;
                    if (Math.Abs(expected[index] - actual[index]) > bound)
                        Assert.Fail($"{what}: C[{row},{column}] expected {expected[index]:G9}, got {actual[index]:G9} (bound {bound:G3}).");
                }
            }
        }
    }

    [TestMethod]
    [DataRow(1, 1, 1)]
    [DataRow(3, 7, 17)]
    [DataRow(7, 3, 1)]
    [DataRow(33, 65, 130)]
    [DataRow(130, 33, 7)]
    [DataRow(17, 130, 65)]
    [DataRow(13, 35, 11)]
    [DataRow(20, 32, 19)]
    [DataRow(28, 67, 33)]
    [DataRow(97, 130, 71)]
    [DataRow(65, 257, 65)]
    [DataRow(301, 37, 800)]
    [DataRow(5, 2093, 3)]
    public void FastMatchesReferenceForEveryTransposeKernelAndThreadCount(int m, int n, int k)
    {
        foreach (var (transposeA, transposeB) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            var product = new Case(m, n, k, transposeA, transposeB, padding: 3, beta: 0.5f, seed: m * 31 + n * 7 + k);
            var expected = product.Reference(1.5f, 0.5f);
            var magnitude = product.Magnitude(1.5f, 0.5f);
            foreach (var kernel in Kernels)
            {
                foreach (var threads in new[] { 1, 2 })
                {
                    var actual = product.Fast(1.5f, 0.5f, threads, kernel);
                    product.AssertMatches(expected, magnitude, actual, $"{m}x{n}x{k} tA={transposeA} tB={transposeB} {kernel} threads={threads}");
                }
            }
        }
    }

    [TestMethod]
    [DataRow(1f, 0f)]
    [DataRow(1f, 1f)]
    [DataRow(-0.75f, 2f)]
    [DataRow(2f, -1f)]
    public void AlphaAndBetaScaleProductAndOldC(float alpha, float beta)
    {
        foreach (var (m, n, k) in new[] { (7, 33, 800), (130, 65, 17) })
        {
            var product = new Case(m, n, k, false, true, padding: 5, beta, seed: 11);
            var expected = product.Reference(alpha, beta);
            var magnitude = product.Magnitude(alpha, beta);
            foreach (var kernel in Kernels)
            {
                var actual = product.Fast(alpha, beta, 2, kernel);
                product.AssertMatches(expected, magnitude, actual, $"alpha={alpha} beta={beta} {m}x{n}x{k} {kernel}");
            }
        }
    }

    [TestMethod]
    public void BetaZeroIgnoresNaNInC()
    {
        var product = new Case(33, 65, 17, false, false, padding: 2, beta: 0f, seed: 5);
        foreach (var kernel in Kernels)
        {
            var actual = product.Fast(1f, 0f, 1, kernel);
            product.AssertMatches(product.Reference(1f, 0f), product.Magnitude(1f, 0f), actual, $"beta=0 {kernel}");
        }
    }

    [TestMethod]
    public void AlphaZeroOrEmptyDepthOnlyScalesC()
    {
        float[] a = [float.NaN, float.NaN, float.NaN, float.NaN];
        float[] b = [float.NaN, float.NaN, float.NaN, float.NaN];
        float[] c = [1, 2, 3, 4];
        Gemm.Multiply(a, 2, false, b, 2, false, c, 2, 2, 2, 2, 0f, 3f, Parallelism.Sequential);
        CollectionAssert.AreEqual(new float[] { 3, 6, 9, 12 }, c);

        float[] nanC = [float.NaN, float.NaN];
        Gemm.Multiply([], 1, false, [], 2, false, nanC, 2, 1, 2, 0, 1f, 0f, Parallelism.Sequential);
        CollectionAssert.AreEqual(new float[] { 0, 0 }, nanC);
    }

    [TestMethod]
    public void KnownProduct()
    {
        // [1 2 3; 4 5 6] · [7 8; 9 10; 11 12] = [58 64; 139 154]
        float[] a = [1, 2, 3, 4, 5, 6];
        float[] b = [7, 8, 9, 10, 11, 12];
        foreach (var kernel in Kernels)
        {
            var c = new float[4];
            Gemm.Multiply(a, 3, false, b, 2, false, c, 2, 2, 2, 3, 1f, 0f, Parallelism.Sequential, kernel);
            CollectionAssert.AreEqual(new float[] { 58, 64, 139, 154 }, c, kernel.ToString());
        }
    }

    [TestMethod]
    [DataRow(false, false)]
    [DataRow(false, true)]
    [DataRow(true, false)]
    [DataRow(true, true)]
    public void ResultsAreBitIdenticalAcrossRunsAndThreadCounts(bool transposeA, bool transposeB)
    {
        foreach (var (m, n, k) in new[] { (131, 97, 400), (45, 301, 129) })
        {
            var product = new Case(m, n, k, transposeA, transposeB, padding: 1, beta: 1f, seed: 3);
            var first = product.Fast(1f, 1f, 1, Gemm.BestKernel);
            CollectionAssert.AreEqual(first, product.Fast(1f, 1f, 1, Gemm.BestKernel), "repeated single-threaded run");
            var twoThreads = product.Fast(1f, 1f, 2, Gemm.BestKernel);
            CollectionAssert.AreEqual(twoThreads, product.Fast(1f, 1f, 2, Gemm.BestKernel), "repeated two-thread run");
            CollectionAssert.AreEqual(first, twoThreads, "one thread against two");
        }
    }

    [TestMethod]
    [DataRow(13, 37, 5)]
    [DataRow(1, 1, 1)]
    [DataRow(1, 1, 900)]
    [DataRow(29, 70, 800)]
    [DataRow(200, 45, 500)]
    [DataRow(97, 130, 400)]
    [DataRow(5, 2093, 3)]
    public void BiasProductIsBitIdenticalToMultiplyOverBroadcastBias(int m, int n, int k)
    {
        foreach (var (transposeA, transposeB) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            // beta 0 fills C with NaN: the bias product must not read it.
            var product = new Case(m, n, k, transposeA, transposeB, padding: 3, beta: 0f, seed: m * 13 + n * 5 + k);
            var bias = GradientCheck.RandomArray(n, m + n + k);
            foreach (var kernel in Kernels)
            {
                foreach (var threads in new[] { 1, 2, 3 })
                {
                    foreach (var alpha in new[] { 1f, -1.5f })
                    {
                        var expected = (float[])product.InitialC.Clone();
                        for (var row = 0; row < m; row++) bias.CopyTo(expected, row * product.LeadingC);
                        Gemm.Multiply(
                            product.A, product.LeadingA, transposeA, product.B, product.LeadingB, transposeB, expected, product.LeadingC,
                            m, n, k, alpha, 1f, new Parallelism(threads), kernel);
                        var actual = (float[])product.InitialC.Clone();
                        Gemm.MultiplyWithBias(
                            product.A, product.LeadingA, transposeA, product.B, product.LeadingB, transposeB, bias, actual, product.LeadingC,
                            m, n, k, alpha, new Parallelism(threads), kernel);
                        AssertBitIdentical(expected, actual, $"{m}x{n}x{k} tA={transposeA} tB={transposeB} {kernel} threads={threads} alpha={alpha}");
                    }
                }
            }
        }
    }

    [TestMethod]
    public void BiasProductWithoutBiasOrDepthIsTheProductOrTheBias()
    {
        var product = new Case(29, 70, 800, false, true, padding: 2, beta: 0f, seed: 7);
        foreach (var kernel in Kernels)
        {
            var expected = product.Fast(1f, 0f, 2, kernel);
            var actual = (float[])product.InitialC.Clone();
            Gemm.MultiplyWithBias(
                product.A, product.LeadingA, false, product.B, product.LeadingB, true, [], actual, product.LeadingC,
                product.M, product.N, product.K, 1f, new Parallelism(2), kernel);
            AssertBitIdentical(expected, actual, $"empty bias {kernel}");
        }

        float[] c = [float.NaN, float.NaN, float.NaN, float.NaN];
        Gemm.MultiplyWithBias([], 1, false, [], 2, false, [5f, -6f], c, 2, 2, 2, 0, 1f, Parallelism.Sequential);
        CollectionAssert.AreEqual(new float[] { 5, -6, 5, -6 }, c);
        float[] nan = [float.NaN, float.NaN, float.NaN, float.NaN];
        Gemm.MultiplyWithBias(nan, 2, false, nan, 2, false, [1f, 2f], c, 2, 2, 2, 2, 0f, Parallelism.Sequential);
        CollectionAssert.AreEqual(new float[] { 1, 2, 1, 2 }, c);
        AssertParameter<ArgumentException>("columnBias", () => Gemm.MultiplyWithBias(nan, 2, false, nan, 2, false, [1f], c, 2, 2, 2, 2, 1f, Parallelism.Sequential));
    }

    private static void AssertBitIdentical(float[] expected, float[] actual, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what);
        for (var index = 0; index < expected.Length; index++)
        {
            if (BitConverter.SingleToInt32Bits(expected[index]) != BitConverter.SingleToInt32Bits(actual[index]))
                Assert.Fail($"{what}: element {index} expected {expected[index]:G9}, got {actual[index]:G9}.");
        }
    }

    [TestMethod]
    public void BadArgumentsThrowNamingTheParameter()
    {
        var a = new float[6];
        var b = new float[6];
        var c = new float[4];
        var one = Parallelism.Sequential;
        AssertParameter<ArgumentOutOfRangeException>("m", () => Gemm.Multiply(a, 3, false, b, 2, false, c, 2, -1, 2, 3, 1, 0, one));
        AssertParameter<ArgumentOutOfRangeException>("n", () => Gemm.Multiply(a, 3, false, b, 2, false, c, 2, 2, -2, 3, 1, 0, one));
        AssertParameter<ArgumentOutOfRangeException>("k", () => Gemm.Multiply(a, 3, false, b, 2, false, c, 2, 2, 2, -3, 1, 0, one));
        AssertParameter<ArgumentOutOfRangeException>("leadingA", () => Gemm.Multiply(a, 2, false, b, 2, false, c, 2, 2, 2, 3, 1, 0, one));
        AssertParameter<ArgumentOutOfRangeException>("leadingA", () => Gemm.Multiply(a, 1, true, b, 2, false, c, 2, 2, 2, 3, 1, 0, one));
        AssertParameter<ArgumentOutOfRangeException>("leadingB", () => Gemm.Multiply(a, 3, false, b, 1, false, c, 2, 2, 2, 3, 1, 0, one));
        AssertParameter<ArgumentOutOfRangeException>("leadingB", () => Gemm.Multiply(a, 3, false, b, 2, true, c, 2, 2, 2, 3, 1, 0, one));
        AssertParameter<ArgumentOutOfRangeException>("leadingC", () => Gemm.Multiply(a, 3, false, b, 2, false, c, 1, 2, 2, 3, 1, 0, one));
        AssertParameter<ArgumentException>("a", () => Gemm.Multiply(a.AsSpan(0, 5), 3, false, b, 2, false, c, 2, 2, 2, 3, 1, 0, one));
        AssertParameter<ArgumentException>("b", () => Gemm.Multiply(a, 3, false, b.AsSpan(1), 2, false, c, 2, 2, 2, 3, 1, 0, one));
        AssertParameter<ArgumentException>("c", () => Gemm.Multiply(a, 3, false, b, 2, false, c.AsSpan(0, 3), 2, 2, 2, 3, 1, 0, one));
        AssertParameter<ArgumentException>("c", () => Gemm.Reference.Multiply(a, 3, false, b, 2, false, c.AsSpan(0, 3), 2, 2, 2, 3, 1, 0));
        AssertParameter<ArgumentOutOfRangeException>("m", () => Gemm.Reference.Multiply(a, 3, false, b, 2, false, c, 2, -1, 2, 3, 1, 0));
    }

    private static void AssertParameter<TException>(string name, Action action) where TException : ArgumentException
    {
        var exception = Assert.ThrowsExactly<TException>(action);
        Assert.AreEqual(name, exception.ParamName);
    }
}
