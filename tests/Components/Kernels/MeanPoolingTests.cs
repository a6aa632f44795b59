using System.Runtime.InteropServices;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Kernels;

[TestClass]
public sealed class MeanPoolingTests
{
    [TestMethod]
    public void AveragesOnlyValidTokens()
    {
        // B = 2, T = 3, C = 2.
        float[] hidden = [1f, 10f, 100f, 100f, 3f, 30f, /* sequence 1 */ 2f, 4f, 6f, 8f, 10f, 12f];
        byte[] keyMask = [1, 0, 1, 1, 1, 1];
        var pooled = new float[4];
        MeanPooling.Forward(hidden, keyMask, pooled, 2, 3, 2, Parallelism.Sequential);
        CollectionAssert.AreEqual(new[] { 2f, 20f, 6f, 8f }, pooled);
        MeanPooling.Reference.Forward(hidden, [], pooled, 2, 3, 2);
        CollectionAssert.AreEqual(new[] { 104f / 3f, 140f / 3f, 6f, 8f }, pooled, "an empty mask means all tokens are valid");
    }

    [TestMethod]
    public void BackwardMatchesFiniteDifferences()
    {
        const int batchSize = 3, tokenCount = 5, channels = 7;
        var hidden = GradientCheck.RandomArray(batchSize * tokenCount * channels, seed: 1);
        byte[] keyMask = [1, 1, 0, 1, 0, /**/ 0, 0, 0, 0, 1, /**/ 1, 1, 1, 1, 1];
        var weights = GradientCheck.RandomArray(batchSize * channels, seed: 2);
        var pooled = new float[batchSize * channels];
        var numerical = GradientCheck.Numerical(() =>
        {
            MeanPooling.Reference.Forward(hidden, keyMask, pooled, batchSize, tokenCount, channels);
            return GradientCheck.Dot(pooled, weights);
        }, hidden);

        var fast = new float[hidden.Length];
        MeanPooling.Backward(weights, keyMask, fast, batchSize, tokenCount, channels, Parallelism.Sequential);
        GradientCheck.AssertClose(numerical, fast, "fast hiddenGradient");
        var reference = new float[hidden.Length];
        MeanPooling.Reference.Backward(weights, keyMask, reference, batchSize, tokenCount, channels);
        GradientCheck.AssertClose(numerical, reference, "reference hiddenGradient");
        // Padding receives exactly nothing.
        Assert.IsTrue(fast.AsSpan(2 * channels, channels).ToArray().All(value => value == 0f));
    }

    [TestMethod]
    [DataRow(1, 1, 1, 1, false)]
    [DataRow(3, 7, 33, 2, true)]
    [DataRow(17, 33, 130, 1, true)]
    [DataRow(17, 33, 130, 2, true)]
    [DataRow(17, 33, 130, 2, false)]
    public void FastMatchesReference(int batchSize, int tokenCount, int channels, int threads, bool masked)
    {
        var parallelism = new Parallelism(threads);
        var hidden = GradientCheck.RandomArray(batchSize * tokenCount * channels, seed: 3);
        var random = new Random(4);
        var keyMask = masked ? Enumerable.Range(0, batchSize * tokenCount).Select(index => (byte)(index % tokenCount == 0 || random.Next(3) > 0 ? 1 : 0)).ToArray() : [];
        var (fastPooled, referencePooled) = (new float[batchSize * channels], new float[batchSize * channels]);
        MeanPooling.Forward(hidden, keyMask, fastPooled, batchSize, tokenCount, channels, parallelism);
        MeanPooling.Reference.Forward(hidden, keyMask, referencePooled, batchSize, tokenCount, channels);
        GradientCheck.AssertClose(referencePooled, fastPooled, "pooled");

        var pooledGradient = GradientCheck.RandomArray(batchSize * channels, seed: 5);
        var fastGradient = GradientCheck.RandomArray(hidden.Length, seed: 6);
        var referenceGradient = (float[])fastGradient.Clone();
        MeanPooling.Backward(pooledGradient, keyMask, fastGradient, batchSize, tokenCount, channels, parallelism);
        MeanPooling.Reference.Backward(pooledGradient, keyMask, referenceGradient, batchSize, tokenCount, channels);
        GradientCheck.AssertClose(referenceGradient, fastGradient, "hiddenGradient");
    }

    [TestMethod]
    public void BackwardAccumulates()
    {
        float[] pooledGradient = [3f, 6f];
        byte[] keyMask = [1, 0, 1];
        float[] hiddenGradient = [1f, 1f, 2f, 2f, 3f, 3f];
        MeanPooling.Backward(pooledGradient, keyMask, hiddenGradient, 1, 3, 2, Parallelism.Sequential);
        CollectionAssert.AreEqual(new[] { 2.5f, 4f, 2f, 2f, 4.5f, 6f }, hiddenGradient);
    }

    [TestMethod]
    public void BadInputThrows()
    {
        var hidden = new float[12];
        var pooled = new float[4];
        var empty = Assert.ThrowsExactly<ArgumentException>(() => MeanPooling.Forward(hidden, [1, 1, 1, 0, 0, 0], pooled, 2, 3, 2, Parallelism.Sequential));
        Assert.AreEqual("keyMask", empty.ParamName);
        StringAssert.Contains(empty.Message, "Sequence 1");
        Assert.AreEqual("keyMask", Assert.ThrowsExactly<ArgumentException>(() => MeanPooling.Reference.Backward(pooled, [0, 0, 0, 1, 1, 1], hidden, 2, 3, 2)).ParamName);
        var badValue = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => MeanPooling.Backward(pooled, [1, 1, 2, 1, 1, 1], hidden, 2, 3, 2, Parallelism.Sequential));
        Assert.AreEqual("keyMask", badValue.ParamName);
        StringAssert.Contains(badValue.Message, "keyMask[2] = 2");
        Assert.AreEqual("keyMask", Assert.ThrowsExactly<ArgumentException>(() => MeanPooling.Forward(hidden, [1, 1], pooled, 2, 3, 2, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("pooled", Assert.ThrowsExactly<ArgumentException>(() => MeanPooling.Forward(hidden, [], hidden, 2, 3, 2, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("tokenCount", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => MeanPooling.Forward(hidden, [], pooled, 2, 0, 2, Parallelism.Sequential)).ParamName);
    }

    [TestMethod]
    public void SameThreadCountGivesSameBits()
    {
        const int batchSize = 16, tokenCount = 33, channels = 129;
        var hidden = GradientCheck.RandomArray(batchSize * tokenCount * channels, seed: 7);
        var keyMask = Enumerable.Range(0, batchSize * tokenCount).Select(index => (byte)(index % 5 == 4 ? 0 : 1)).ToArray();
        float[] Run()
        {
            var pooled = new float[batchSize * channels];
            var hiddenGradient = new float[hidden.Length];
            MeanPooling.Forward(hidden, keyMask, pooled, batchSize, tokenCount, channels, new Parallelism(2));
            MeanPooling.Backward(pooled, keyMask, hiddenGradient, batchSize, tokenCount, channels, new Parallelism(2));
            return [.. pooled, .. hiddenGradient];
        }

        Assert.IsTrue(MemoryMarshal.AsBytes(Run().AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(Run().AsSpan())));
    }
}
