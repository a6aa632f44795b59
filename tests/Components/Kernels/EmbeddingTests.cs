using System.Runtime.InteropServices;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Kernels;

[TestClass]
public sealed class EmbeddingTests
{
    [TestMethod]
    public void AddsTokenAndPositionRows()
    {
        // V = 3, maxT = 3, C = 2; B = 2, T = 2.
        float[] tokenTable = [0f, 1f, 10f, 11f, 20f, 21f];
        float[] positionTable = [100f, 200f, 300f, 400f, 500f, 600f];
        int[] tokens = [2, 0, 1, 1];
        var output = new float[8];
        Embedding.Forward(tokens, tokenTable, positionTable, output, 2, 2, 2, 3, Parallelism.Sequential);
        CollectionAssert.AreEqual(new[] { 120f, 221f, 300f, 401f, 110f, 211f, 310f, 411f }, output);
    }

    [TestMethod]
    public void BackwardMatchesFiniteDifferences()
    {
        const int batchSize = 3, tokenCount = 5, channels = 7, vocabularySize = 33, maximumTokens = 6;
        int[] tokens = [4, 4, 32, 0, 17, /**/ 4, 9, 9, 1, 31, /**/ 0, 0, 0, 32, 5];
        var tokenTable = GradientCheck.RandomArray(vocabularySize * channels, seed: 1);
        var positionTable = GradientCheck.RandomArray(maximumTokens * channels, seed: 2);
        var weights = GradientCheck.RandomArray(batchSize * tokenCount * channels, seed: 3);
        var output = new float[weights.Length];
        double Loss()
        {
            Embedding.Reference.Forward(tokens, tokenTable, positionTable, output, batchSize, tokenCount, channels, vocabularySize);
            return GradientCheck.Dot(output, weights);
        }

        var numericalToken = GradientCheck.Numerical(Loss, tokenTable);
        var numericalPosition = GradientCheck.Numerical(Loss, positionTable);
        foreach (var fast in new[] { true, false })
        {
            var (tokenGradient, positionGradient) = (new float[tokenTable.Length], new float[positionTable.Length]);
            if (fast) Embedding.Backward(tokens, weights, tokenGradient, positionGradient, batchSize, tokenCount, channels, vocabularySize, Parallelism.Sequential);
            else Embedding.Reference.Backward(tokens, weights, tokenGradient, positionGradient, batchSize, tokenCount, channels, vocabularySize);
            var name = fast ? "fast" : "reference";
            GradientCheck.AssertClose(numericalToken, tokenGradient, $"{name} tokenTableGradient");
            GradientCheck.AssertClose(numericalPosition, positionGradient, $"{name} positionTableGradient");
        }
    }

    [TestMethod]
    [DataRow(1, 1, 1, 1, 1, false)]
    [DataRow(3, 5, 7, 33, 2, false)]
    [DataRow(7, 150, 33, 2049, 1, false)]
    [DataRow(7, 150, 33, 2049, 2, false)]
    [DataRow(7, 150, 33, 2049, 2, true)]
    [DataRow(9, 257, 65, 33, 3, true)]
    public void FastMatchesReference(int batchSize, int tokenCount, int channels, int vocabularySize, int threads, bool skewed)
    {
        var parallelism = new Parallelism(threads);
        var random = new Random(4);
        // Skewed: most rows use a handful of ids, as natural text does, so thread parts must be cut by rows, not ids.
        var tokens = Enumerable.Range(0, batchSize * tokenCount).Select(_ => skewed && random.Next(10) > 0 ? random.Next(3) : random.Next(vocabularySize)).ToArray();
        var maximumTokens = tokenCount + 3;
        var tokenTable = GradientCheck.RandomArray(vocabularySize * channels, seed: 5);
        var positionTable = GradientCheck.RandomArray(maximumTokens * channels, seed: 6);
        var (fastOutput, referenceOutput) = (new float[tokens.Length * channels], new float[tokens.Length * channels]);
        Embedding.Forward(tokens, tokenTable, positionTable, fastOutput, batchSize, tokenCount, channels, vocabularySize, parallelism);
        Embedding.Reference.Forward(tokens, tokenTable, positionTable, referenceOutput, batchSize, tokenCount, channels, vocabularySize);
        GradientCheck.AssertClose(referenceOutput, fastOutput, "output");

        var outputGradient = GradientCheck.RandomArray(fastOutput.Length, seed: 7);
        var fastToken = GradientCheck.RandomArray(tokenTable.Length, seed: 8);
        var fastPosition = GradientCheck.RandomArray(positionTable.Length, seed: 9);
        var (referenceToken, referencePosition) = ((float[])fastToken.Clone(), (float[])fastPosition.Clone());
        Embedding.Backward(tokens, outputGradient, fastToken, fastPosition, batchSize, tokenCount, channels, vocabularySize, parallelism);
        Embedding.Reference.Backward(tokens, outputGradient, referenceToken, referencePosition, batchSize, tokenCount, channels, vocabularySize);
        // Every table row sums in ascending row order, as the reference does: the same bits, for any thread count.
        AssertSameBits(referenceToken, fastToken, "tokenTableGradient");
        AssertSameBits(referencePosition, fastPosition, "positionTableGradient");
    }

    [TestMethod]
    [DataRow(2)]
    [DataRow(3)]
    [DataRow(7)]
    public void ThreadPartsNeverSplitATokenId(int partCount)
    {
        // A token id split across two parts would be summed by two threads at once: a race, and another order.
        const int vocabularySize = 50;
        var random = new Random(partCount);
        var tokens = Enumerable.Range(0, 999).Select(_ => random.Next(4) > 0 ? random.Next(3) : random.Next(vocabularySize)).ToArray();
        var counts = new int[vocabularySize + 1];
        var order = new int[tokens.Length];
        Embedding.GroupRowsByToken(tokens, vocabularySize, counts, order);
        for (var index = 1; index < order.Length; index++)
        {
            var (previous, current) = (tokens[order[index - 1]], tokens[order[index]]);
            Assert.IsTrue(previous < current || (previous == current && order[index - 1] < order[index]), $"order[{index}]");
        }

        var covered = 0;
        for (var part = 0; part < partCount; part++)
        {
            var (start, end) = (Embedding.PartStart(tokens, order, part, partCount), Embedding.PartStart(tokens, order, part + 1, partCount));
            Assert.AreEqual(covered, start, $"part {part} starts where part {part - 1} ended");
            Assert.IsTrue(end >= start, $"part {part} is not reversed");
            if (start > 0 && start < order.Length) Assert.AreNotEqual(tokens[order[start - 1]], tokens[order[start]], $"part {part} starts inside an id");
            covered = end;
        }

        Assert.AreEqual(order.Length, covered);
    }

    [TestMethod]
    public void BackwardAccumulatesAndSkipsEmptyGradients()
    {
        float[] outputGradient = [1f, 2f, 3f, 4f, 5f, 6f]; // B = 1, T = 3, C = 2
        int[] tokens = [1, 0, 1];
        float[] tokenGradient = [10f, 10f, 20f, 20f];
        float[] positionGradient = [1f, 1f, 1f, 1f, 1f, 1f, 7f, 7f];
        Embedding.Backward(tokens, outputGradient, tokenGradient, positionGradient, 1, 3, 2, 2, Parallelism.Sequential);
        CollectionAssert.AreEqual(new[] { 13f, 14f, 26f, 28f }, tokenGradient);
        CollectionAssert.AreEqual(new[] { 2f, 3f, 4f, 5f, 6f, 7f, 7f, 7f }, positionGradient);
        Embedding.Backward(tokens, outputGradient, [], positionGradient, 1, 3, 2, 2, new Parallelism(2));
        CollectionAssert.AreEqual(new[] { 3f, 5f, 7f, 9f, 11f, 13f, 7f, 7f }, positionGradient);
        Embedding.Reference.Backward(tokens, outputGradient, tokenGradient, [], 1, 3, 2, 2);
        CollectionAssert.AreEqual(new[] { 16f, 18f, 32f, 36f }, tokenGradient);
    }

    [TestMethod]
    public void BadInputThrows()
    {
        var tokenTable = new float[6];    // V = 3, C = 2
        var positionTable = new float[4]; // maxT = 2
        var output = new float[8];        // B = 2, T = 2
        var badToken = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Embedding.Forward([0, 1, 3, 2], tokenTable, positionTable, output, 2, 2, 2, 3, Parallelism.Sequential));
        Assert.AreEqual("tokens", badToken.ParamName);
        StringAssert.Contains(badToken.Message, "tokens[2] = 3");
        var negativeToken = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Embedding.Backward([0, -1, 0, 0], output, tokenTable, positionTable, 2, 2, 2, 3, new Parallelism(2)));
        Assert.AreEqual("tokens", negativeToken.ParamName);
        StringAssert.Contains(negativeToken.Message, "tokens[1] = -1");
        Assert.AreEqual("tokenCount", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Embedding.Forward([0, 0, 0, 0, 0, 0], tokenTable, positionTable, new float[12], 2, 3, 2, 3, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("tokenCount", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Embedding.Reference.Backward([0, 0, 0, 0, 0, 0], new float[12], [], positionTable, 2, 3, 2, 3)).ParamName);
        Assert.AreEqual("positionTable", Assert.ThrowsExactly<ArgumentException>(() => Embedding.Forward([0, 0, 0, 0], tokenTable, new float[5], output, 2, 2, 2, 3, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("tokenTable", Assert.ThrowsExactly<ArgumentException>(() => Embedding.Reference.Forward([0, 0, 0, 0], new float[8], positionTable, output, 2, 2, 2, 3)).ParamName);
        Assert.AreEqual("tokens", Assert.ThrowsExactly<ArgumentException>(() => Embedding.Forward([0, 0, 0], tokenTable, positionTable, output, 2, 2, 2, 3, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("tokenTableGradient", Assert.ThrowsExactly<ArgumentException>(() => Embedding.Backward([0, 0, 0, 0], output, new float[4], [], 2, 2, 2, 3, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("vocabularySize", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Embedding.Forward([0, 0, 0, 0], tokenTable, positionTable, output, 2, 2, 2, 0, Parallelism.Sequential)).ParamName);
    }

    [TestMethod]
    public void SameThreadCountGivesSameBits()
    {
        const int batchSize = 8, tokenCount = 128, channels = 64, vocabularySize = 257;
        var random = new Random(10);
        var tokens = Enumerable.Range(0, batchSize * tokenCount).Select(_ => random.Next(8) == 0 ? random.Next(vocabularySize) : random.Next(4)).ToArray();
        var tokenTable = GradientCheck.RandomArray(vocabularySize * channels, seed: 11);
        var positionTable = GradientCheck.RandomArray(tokenCount * channels, seed: 12);
        var outputGradient = GradientCheck.RandomArray(batchSize * tokenCount * channels, seed: 13);
        float[] Run()
        {
            var output = new float[outputGradient.Length];
            var (tokenGradient, positionGradient) = (new float[tokenTable.Length], new float[positionTable.Length]);
            Embedding.Forward(tokens, tokenTable, positionTable, output, batchSize, tokenCount, channels, vocabularySize, new Parallelism(2));
            Embedding.Backward(tokens, outputGradient, tokenGradient, positionGradient, batchSize, tokenCount, channels, vocabularySize, new Parallelism(2));
            return [.. output, .. tokenGradient, .. positionGradient];
        }

        Assert.IsTrue(MemoryMarshal.AsBytes(Run().AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(Run().AsSpan())));
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        for (var index = 0; index < expected.Length; index++)
            if (BitConverter.SingleToInt32Bits(expected[index]) != BitConverter.SingleToInt32Bits(actual[index]))
                Assert.Fail($"{what}[{index}]: expected {expected[index]:R}, got {actual[index]:R}.");
    }
}
