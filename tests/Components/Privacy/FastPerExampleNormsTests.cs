using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Privacy;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>The Gemm-based ghost norms against the double-precision reference, and the tied-head cross term against a materialised table.</summary>
[TestClass]
public sealed class FastPerExampleNormsTests
{
    [TestMethod]
    [DataRow(3, 37, 5, 7)]   // 2 T^2 > IC OC: materialised
    [DataRow(4, 35, 9, 24)]  // Gram, three symmetric token blocks of unequal size
    [DataRow(2, 70, 33, 65)] // Gram, four blocks
    [DataRow(5, 1, 6, 3)]    // one token (a classifier head)
    public void WeightSquaredNormsMatchTheReference(int batchSize, int tokens, int inChannels, int outChannels)
    {
        var input = GradientCheck.RandomArray(batchSize * tokens * inChannels, seed: 1);
        var outputGradient = GradientCheck.RandomArray(batchSize * tokens * outChannels + 11, seed: 2); // longer than the live rows
        var expected = new double[batchSize];
        GhostNorms.Reference(input, outputGradient.AsSpan(0, batchSize * tokens * outChannels), expected, [], batchSize, tokens, inChannels, outChannels);
        var actual = new double[batchSize];
        GhostNorms.WeightSquaredNorms(input, outputGradient, actual, batchSize, tokens, inChannels, outChannels, new Parallelism(2));
        for (var example = 0; example < batchSize; example++)
            Assert.AreEqual(expected[example], actual[example], 1e-5 * expected[example], $"example {example}");
    }

    [TestMethod]
    public void WeightSquaredNormsRefuseShortBuffers()
    {
        var exception = Assert.ThrowsExactly<ArgumentException>(() => GhostNorms.WeightSquaredNorms(new float[5], new float[6], new double[1], 1, 2, 3, 3, Parallelism.Sequential));
        Assert.AreEqual("input", exception.ParamName);
    }

    [TestMethod]
    public void TiedCrossTermIsTheInnerProductOfTheTwoTableGradients()
    {
        const int batchSize = 3, tokens = 5, channels = 4, vocabulary = 6;
        var ids = new[] { 1, 4, 1, 0, 5, 2, 2, 2, 3, 0, 5, 4, 3, 1, 0 };
        var embeddingGradient = GradientCheck.RandomArray(batchSize * tokens * channels, seed: 3);
        var headInput = GradientCheck.RandomArray(batchSize * tokens * channels, seed: 4);
        var headGradient = GradientCheck.RandomArray(batchSize * tokens * vocabulary, seed: 5);
        var crossTerms = new double[batchSize];
        PerExampleNorms.TiedEmbeddingCrossTerms(ids, embeddingGradient, headInput, headGradient, crossTerms, batchSize, tokens, channels, vocabulary);

        for (var example = 0; example < batchSize; example++)
        {
            var (embeddingTable, headTable) = (new double[vocabulary * channels], new double[vocabulary * channels]);
            for (var t = 0; t < tokens; t++)
            {
                var row = example * tokens + t;
                for (var c = 0; c < channels; c++) embeddingTable[ids[row] * channels + c] += embeddingGradient[row * channels + c];
                for (var v = 0; v < vocabulary; v++)
                for (var c = 0; c < channels; c++) headTable[v * channels + c] += (double)headGradient[row * vocabulary + v] * headInput[row * channels + c];
            }

            var expected = embeddingTable.Zip(headTable, (left, right) => left * right).Sum();
            Assert.AreEqual(expected, crossTerms[example], 1e-9 * Math.Max(1, Math.Abs(expected)), $"example {example}");
        }
    }
}
