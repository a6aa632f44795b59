using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Kernels;

[TestClass]
public sealed class AttentionTests
{
    private static readonly Parallelism Two = new(2);

    /// <summary>Random qkv, an output-gradient weighting and (optionally) a right-padding mask for one shape.</summary>
    private sealed record Case(int BatchSize, int TokenCount, int Channels, int HeadCount, bool Causal, float[] Qkv, float[] Weights, byte[] KeyMask)
    {
        public static Case Create(int batchSize, int tokenCount, int channels, int headCount, bool causal, bool padded, int seed)
        {
            var keyMask = padded ? RightPadding(batchSize, tokenCount, seed) : [];
            return new Case(batchSize, tokenCount, channels, headCount, causal,
                GradientCheck.RandomArray(batchSize * tokenCount * 3 * channels, seed),
                GradientCheck.RandomArray(batchSize * tokenCount * channels, seed + 1), keyMask);
        }

        public int OutputLength => BatchSize * TokenCount * Channels;

        public int ProbabilityLength => BatchSize * HeadCount * TokenCount * TokenCount;

        public (float[] Output, float[] Probabilities) Forward(Parallelism parallelism)
        {
            var (output, probabilities) = (new float[OutputLength], new float[ProbabilityLength]);
            Attention.Forward(Qkv, KeyMask, output, probabilities, BatchSize, TokenCount, Channels, HeadCount, Causal, parallelism);
            return (output, probabilities);
        }

        public (float[] Output, float[] Probabilities) ForwardReference()
        {
            var (output, probabilities) = (new float[OutputLength], new float[ProbabilityLength]);
            Attention.Reference.Forward(Qkv, KeyMask, output, probabilities, BatchSize, TokenCount, Channels, HeadCount, Causal);
            return (output, probabilities);
        }

        public float[] Backward(float[] probabilities, Parallelism parallelism)
        {
            var gradient = new float[Qkv.Length];
            Attention.Backward(Weights, Qkv, probabilities, gradient, BatchSize, TokenCount, Channels, HeadCount, parallelism);
            return gradient;
        }

        public float[] BackwardReference(float[] probabilities)
        {
            var gradient = new float[Qkv.Length];
            Attention.Reference.Backward(Weights, Qkv, probabilities, gradient, BatchSize, TokenCount, Channels, HeadCount);
            return gradient;
        }

        public bool IsVisible(int batch, int query, int key) =>
            (!Causal || key <= query) && (KeyMask.Length == 0 || KeyMask[batch * TokenCount + key] == 1);
    }

    /// <summary>Sequence b keeps its first lengths[b] tokens; the first sequence is always full, later ones at least 1 long.</summary>
    private static byte[] RightPadding(int batchSize, int tokenCount, int seed)
    {
        var random = new Random(seed);
        var mask = new byte[batchSize * tokenCount];
        for (var batch = 0; batch < batchSize; batch++)
        {
            var length = batch == 0 ? tokenCount : random.Next(1, tokenCount + 1);
            for (var token = 0; token < length; token++) mask[batch * tokenCount + token] = 1;
        }

        return mask;
    }

    [TestMethod]
    [DataRow(2, 5, 6, 3, true, false)]
    [DataRow(2, 5, 6, 3, false, true)]
    [DataRow(3, 4, 8, 2, true, true)]
    [DataRow(2, 1, 4, 2, true, false)]
    [DataRow(2, 1, 4, 2, false, true)]
    [DataRow(1, 3, 3, 1, false, false)]
    public void QkvGradientMatchesFiniteDifferences(int batchSize, int tokenCount, int channels, int headCount, bool causal, bool padded)
    {
        var test = Case.Create(batchSize, tokenCount, channels, headCount, causal, padded, seed: 11);
        var numerical = GradientCheck.Numerical(() => GradientCheck.Dot(test.ForwardReference().Output, test.Weights), test.Qkv);
        var (_, probabilities) = test.Forward(Parallelism.Sequential);

        GradientCheck.AssertClose(numerical, test.Backward(probabilities, Two), "fast dqkv");
        GradientCheck.AssertClose(numerical, test.BackwardReference(probabilities), "reference dqkv");
    }

    [TestMethod]
    [DataRow(2, 5, 6, 3)]
    [DataRow(3, 7, 21, 7)]
    [DataRow(2, 37, 48, 3)]
    [DataRow(2, 33, 96, 2)]
    [DataRow(1, 70, 70, 1)]
    [DataRow(2, 13, 15, 3)]
    [DataRow(1, 40, 33, 1)]
    [DataRow(3, 1, 9, 3)]
    public void FastMatchesReference(int batchSize, int tokenCount, int channels, int headCount)
    {
        foreach (var causal in new[] { true, false })
        foreach (var padded in new[] { false, true })
        {
            var test = Case.Create(batchSize, tokenCount, channels, headCount, causal, padded, seed: tokenCount + channels);
            var what = $"causal={causal}, padded={padded}";
            var (expectedOutput, expectedProbabilities) = test.ForwardReference();
            var expectedGradient = test.BackwardReference(expectedProbabilities);
            foreach (var parallelism in new[] { Parallelism.Sequential, Two })
            {
                var (output, probabilities) = test.Forward(parallelism);
                GradientCheck.AssertClose(expectedOutput, output, $"output ({what}, {parallelism.ThreadCount} threads)", 1e-4, 1e-5);
                GradientCheck.AssertClose(expectedProbabilities, probabilities, $"probabilities ({what}, {parallelism.ThreadCount} threads)", 1e-4, 1e-6);
                GradientCheck.AssertClose(expectedGradient, test.Backward(probabilities, parallelism), $"dqkv ({what}, {parallelism.ThreadCount} threads)", 1e-4, 1e-5);
            }
        }
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void ProbabilityRowsSumToOneOverVisibleKeysAndAreZeroElsewhere(bool causal)
    {
        var test = Case.Create(batchSize: 4, tokenCount: 9, channels: 12, headCount: 3, causal, padded: true, seed: 5);
        var (_, probabilities) = test.Forward(Two);
        var tokenCount = test.TokenCount;
        for (var batch = 0; batch < test.BatchSize; batch++)
        for (var head = 0; head < test.HeadCount; head++)
        for (var query = 0; query < tokenCount; query++)
        {
            var row = probabilities.AsSpan(((batch * test.HeadCount + head) * tokenCount + query) * tokenCount, tokenCount);
            double sum = 0;
            for (var key = 0; key < tokenCount; key++)
            {
                if (test.IsVisible(batch, query, key))
                {
                    Assert.IsGreaterThan(0f, row[key], $"visible key {key} of row ({batch}, {head}, {query})");
                    sum += row[key];
                }
                else
                {
                    Assert.AreEqual(0f, row[key], $"hidden key {key} of row ({batch}, {head}, {query})");
                }
            }

            Assert.AreEqual(1.0, sum, 1e-5, $"sum of row ({batch}, {head}, {query})");
        }
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void ZeroQueriesGiveUniformProbabilitiesAndTheMeanOfVisibleValues(bool causal)
    {
        var test = Case.Create(batchSize: 3, tokenCount: 6, channels: 10, headCount: 2, causal, padded: true, seed: 9);
        var (tokenCount, channels) = (test.TokenCount, test.Channels);
        for (var token = 0; token < test.BatchSize * tokenCount; token++) Array.Clear(test.Qkv, token * 3 * channels, channels);
        var (output, probabilities) = test.Forward(Two);

        for (var batch = 0; batch < test.BatchSize; batch++)
        for (var query = 0; query < tokenCount; query++)
        {
            var visibleKeys = Enumerable.Range(0, tokenCount).Where(key => test.IsVisible(batch, query, key)).ToArray();
            for (var head = 0; head < test.HeadCount; head++)
            for (var key = 0; key < tokenCount; key++)
            {
                var expected = visibleKeys.Contains(key) ? 1f / visibleKeys.Length : 0f;
                Assert.AreEqual(expected, probabilities[((batch * test.HeadCount + head) * tokenCount + query) * tokenCount + key], 1e-6f);
            }

            for (var channel = 0; channel < channels; channel++)
            {
                var mean = visibleKeys.Average(key => (double)test.Qkv[(batch * tokenCount + key) * 3 * channels + 2 * channels + channel]);
                Assert.AreEqual(mean, output[(batch * tokenCount + query) * channels + channel], 1e-5, $"output ({batch}, {query}, {channel})");
            }
        }
    }

    [TestMethod]
    public void TwoTokensGiveTheHandComputedAnswer()
    {
        // hs = 1, so the scale is 1: scores (1·0, 1·ln 3) give probabilities (1/4, 3/4) and output 4/4 + 3·8/4 = 7.
        float[] qkv = [1f, 0f, 4f, 0f, MathF.Log(3f), 8f];
        var (output, probabilities) = (new float[2], new float[4]);

        Attention.Forward(qkv, [], output, probabilities, 1, 2, 1, 1, causal: false, Parallelism.Sequential);

        Assert.AreEqual(0.25f, probabilities[0], 1e-6f);
        Assert.AreEqual(0.75f, probabilities[1], 1e-6f);
        Assert.AreEqual(7f, output[0], 1e-5f);
        Assert.AreEqual(6f, output[1], 1e-5f, "query 1 = 0 attends uniformly: (4 + 8) / 2");
    }

    [TestMethod]
    public void BackwardAccumulatesAndSkipsAnEmptyGradient()
    {
        var test = Case.Create(batchSize: 2, tokenCount: 7, channels: 12, headCount: 3, causal: true, padded: true, seed: 3);
        var (_, probabilities) = test.Forward(Two);
        var fresh = test.Backward(probabilities, Two);
        var prior = GradientCheck.RandomArray(test.Qkv.Length, seed: 4);

        var fast = (float[])prior.Clone();
        Attention.Backward(test.Weights, test.Qkv, probabilities, fast, test.BatchSize, test.TokenCount, test.Channels, test.HeadCount, Two);
        var reference = (float[])prior.Clone();
        Attention.Reference.Backward(test.Weights, test.Qkv, probabilities, reference, test.BatchSize, test.TokenCount, test.Channels, test.HeadCount);

        var expected = prior.Zip(fresh, (before, added) => before + added).ToArray();
        GradientCheck.AssertClose(expected, fast, "fast prior + gradient", 1e-5, 1e-5);
        GradientCheck.AssertClose(expected, reference, "reference prior + gradient", 1e-5, 1e-5);
        Attention.Backward(test.Weights, test.Qkv, probabilities, [], test.BatchSize, test.TokenCount, test.Channels, test.HeadCount, Two);
        Attention.Reference.Backward(test.Weights, test.Qkv, probabilities, [], test.BatchSize, test.TokenCount, test.Channels, test.HeadCount);
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void ResultsAreBitIdenticalAcrossRunsAndThreadCounts(bool causal)
    {
        var test = Case.Create(batchSize: 3, tokenCount: 19, channels: 40, headCount: 5, causal, padded: true, seed: 21);
        var (output, probabilities) = test.Forward(Two);
        var gradient = test.Backward(probabilities, Two);
        foreach (var parallelism in new[] { Two, Parallelism.Sequential, new Parallelism(3) })
        {
            var (againOutput, againProbabilities) = test.Forward(parallelism);
            CollectionAssert.AreEqual(output, againOutput, $"output, {parallelism.ThreadCount} threads");
            CollectionAssert.AreEqual(probabilities, againProbabilities, $"probabilities, {parallelism.ThreadCount} threads");
            CollectionAssert.AreEqual(gradient, test.Backward(againProbabilities, parallelism), $"dqkv, {parallelism.ThreadCount} threads");
        }
    }

    [TestMethod]
    public void BadShapesThrowNamingTheParameter()
    {
        var (qkv, output, probabilities) = (new float[2 * 3 * 18], new float[2 * 3 * 6], new float[2 * 4 * 3 * 3]);

        var indivisible = Assert.ThrowsExactly<ArgumentException>(() => Attention.Forward(qkv, [], output, probabilities, 2, 3, 6, 4, true, Two));
        Assert.AreEqual("headCount", indivisible.ParamName);
        Assert.Contains("4", indivisible.Message);
        Assert.Contains("6", indivisible.Message);
        Assert.AreEqual("headCount", Assert.ThrowsExactly<ArgumentException>(() => Attention.Reference.Forward(qkv, [], output, probabilities, 2, 3, 6, 4, true)).ParamName);
        Assert.AreEqual("headCount", Assert.ThrowsExactly<ArgumentException>(() => Attention.Backward(output, qkv, probabilities, qkv, 2, 3, 6, 4, Two)).ParamName);

        Assert.AreEqual("batchSize", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Attention.Forward(qkv, [], output, probabilities, 0, 3, 6, 2, true, Two)).ParamName);
        Assert.AreEqual("tokenCount", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Attention.Backward(output, qkv, probabilities, qkv, 2, -1, 6, 2, Two)).ParamName);
        Assert.AreEqual("channels", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Attention.Reference.Forward(qkv, [], output, probabilities, 2, 3, 0, 2, true)).ParamName);
        Assert.AreEqual("headCount", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Attention.Reference.Backward(output, qkv, probabilities, qkv, 2, 3, 6, 0)).ParamName);

        // Right sizes for H = 2: each wrong span length is named.
        var (rightProbabilities, rightMask) = (new float[2 * 2 * 3 * 3], new byte[2 * 3]);
        Assert.AreEqual("qkv", Assert.ThrowsExactly<ArgumentException>(() => Attention.Forward(qkv.AsSpan(1), [], output, rightProbabilities, 2, 3, 6, 2, true, Two)).ParamName);
        Assert.AreEqual("keyMask", Assert.ThrowsExactly<ArgumentException>(() => Attention.Forward(qkv, rightMask.AsSpan(1), output, rightProbabilities, 2, 3, 6, 2, true, Two)).ParamName);
        Assert.AreEqual("output", Assert.ThrowsExactly<ArgumentException>(() => Attention.Reference.Forward(qkv, [], output.AsSpan(1), rightProbabilities, 2, 3, 6, 2, true)).ParamName);
        Assert.AreEqual("probabilities", Assert.ThrowsExactly<ArgumentException>(() => Attention.Forward(qkv, [], output, probabilities, 2, 3, 6, 2, true, Two)).ParamName);
        Assert.AreEqual("outputGradient", Assert.ThrowsExactly<ArgumentException>(() => Attention.Backward(qkv, qkv, rightProbabilities, qkv, 2, 3, 6, 2, Two)).ParamName);
        Assert.AreEqual("probabilities", Assert.ThrowsExactly<ArgumentException>(() => Attention.Reference.Backward(output, qkv, probabilities, qkv, 2, 3, 6, 2)).ParamName);
        Assert.AreEqual("qkvGradient", Assert.ThrowsExactly<ArgumentException>(() => Attention.Backward(output, qkv, rightProbabilities, output, 2, 3, 6, 2, Two)).ParamName);
    }

    [TestMethod]
    [DataRow(true, new byte[] { 1, 1, 1, 0, 1, 1 }, "batch 1")]
    [DataRow(false, new byte[] { 1, 0, 0, 0, 0, 0 }, "batch 1")]
    [DataRow(false, new byte[] { 0, 0, 0, 1, 1, 1 }, "batch 0")]
    public void AQueryWithNoVisibleKeyThrowsNamingTheBatch(bool causal, byte[] keyMask, string batch)
    {
        var (qkv, output, probabilities) = (new float[2 * 3 * 18], new float[2 * 3 * 6], new float[2 * 2 * 3 * 3]);
        Array.Fill(output, float.NaN);

        var fast = Assert.ThrowsExactly<ArgumentException>(() => Attention.Forward(qkv, keyMask, output, probabilities, 2, 3, 6, 2, causal, Two));
        var reference = Assert.ThrowsExactly<ArgumentException>(() => Attention.Reference.Forward(qkv, keyMask, output, probabilities, 2, 3, 6, 2, causal));

        foreach (var exception in new[] { fast, reference })
        {
            Assert.AreEqual("keyMask", exception.ParamName);
            Assert.Contains(batch, exception.Message);
        }
    }

    [TestMethod]
    public void AMaskValueOtherThanZeroOrOneThrows()
    {
        var (qkv, output, probabilities) = (new float[2 * 3 * 18], new float[2 * 3 * 6], new float[2 * 2 * 3 * 3]);
        byte[] keyMask = [1, 1, 1, 1, 2, 0];

        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Attention.Forward(qkv, keyMask, output, probabilities, 2, 3, 6, 2, false, Two));

        Assert.AreEqual("keyMask", exception.ParamName);
        Assert.Contains("keyMask[4]", exception.Message);
    }
}
