using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Diagnostics;
using Pipelines.Components.Models;

namespace Pipelines.Components.Tests.Diagnostics;

[TestClass]
public sealed class AttentionEntropyTests
{
    [TestMethod]
    public void UniformRowsHaveEntropyLogNAndOneHotRowsZero()
    {
        const int tokens = 5;
        var uniform = new float[tokens * tokens];
        Array.Fill(uniform, 1f / tokens);
        Assert.AreEqual(Math.Log(tokens), AttentionEntropy.Mean(uniform, [], causal: false, 1, 1, tokens, normalize: false), 1e-6);
        Assert.AreEqual(1.0, AttentionEntropy.Mean(uniform, [], causal: false, 1, 1, tokens, normalize: true), 1e-6);

        var oneHot = new float[tokens * tokens];
        for (var query = 0; query < tokens; query++) oneHot[query * tokens + (query * 3 % tokens)] = 1f;
        Assert.AreEqual(0.0, AttentionEntropy.Mean(oneHot, [], causal: false, 1, 1, tokens, normalize: false));
    }

    [TestMethod]
    public void PaddingQueriesAreSkippedAndPaddingKeysLeftOutOfTheNormaliser()
    {
        // One example, T = 4, the last token padding: valid rows are uniform over 3 keys; the padding row is garbage.
        var probabilities = new float[16];
        for (var query = 0; query < 3; query++)
        {
            for (var key = 0; key < 3; key++) probabilities[query * 4 + key] = 1f / 3;
        }

        probabilities.AsSpan(12, 4).Fill(0.25f);
        byte[] mask = [1, 1, 1, 0];
        Assert.AreEqual(Math.Log(3), AttentionEntropy.Mean(probabilities, mask, causal: false, 1, 1, 4, normalize: false), 1e-6);
        Assert.AreEqual(1.0, AttentionEntropy.Mean(probabilities, mask, causal: false, 1, 1, 4, normalize: true), 1e-6);
    }

    [TestMethod]
    public void ZeroQueryKeyWeightsGiveUniformAttentionInBothModels()
    {
        var config = new TransformerConfig(layerCount: 2, headCount: 2, channels: 8, contextLength: 6, vocabularySize: 11);
        var gpt = GptModel.Create(config, seed: 1, Parallelism.Sequential);
        ZeroQueriesAndKeys(gpt, config);
        var gptBatch = new DiagnosticBatch([1, 2, 3, 4, 5, 6, 7, 8], [2, 3, 4, -1, 6, 7, 8, 9], 2, 4);
        var gptMetrics = LayerDiagnostics.Measure(gpt, [gptBatch]);
        var expectedCausal = Enumerable.Range(1, 4).Average(keys => Math.Log(keys)); // row i sees i + 1 keys uniformly
        foreach (var metric in gptMetrics)
        {
            Assert.AreEqual(expectedCausal, metric.AttentionEntropy, 1e-5, $"GPT layer {metric.Layer}");
            Assert.AreEqual(1.0, metric.NormalizedAttentionEntropy, 1e-5, $"GPT layer {metric.Layer} normalised");
        }

        var encoder = EncoderClassifier.Create(config, classCount: 3, seed: 2, Parallelism.Sequential);
        ZeroQueriesAndKeys(encoder, config);
        var encoderBatch = new DiagnosticBatch([1, 2, 3, 0, 4, 5, 6, 7], [0, 2], 2, 4, KeyMask: [1, 1, 1, 0, 1, 1, 1, 1]);
        var encoderMetrics = LayerDiagnostics.Measure(encoder, [encoderBatch]);
        var expectedPadded = (3 * Math.Log(3) + 4 * Math.Log(4)) / 7; // 3 valid queries over 3 keys, 4 over 4
        foreach (var metric in encoderMetrics)
        {
            Assert.AreEqual(expectedPadded, metric.AttentionEntropy, 1e-5, $"encoder layer {metric.Layer}");
            Assert.AreEqual(1.0, metric.NormalizedAttentionEntropy, 1e-5, $"encoder layer {metric.Layer} normalised");
        }
    }

    [TestMethod]
    public void ShapeMismatchesNameTheArgument()
    {
        var tooShort = Assert.ThrowsExactly<ArgumentException>(() => AttentionEntropy.Mean(new float[7], [], false, 1, 1, 3, false));
        Assert.AreEqual("probabilities", tooShort.ParamName);
        var badMask = Assert.ThrowsExactly<ArgumentException>(() => AttentionEntropy.Mean(new float[9], [1, 1], false, 1, 1, 3, false));
        Assert.AreEqual("keyMask", badMask.ParamName);
    }

    /// <summary>Zeroes the query and key rows of every qkv weight and bias, so every score is 0 and attention is uniform.</summary>
    internal static void ZeroQueriesAndKeys(ITransformerModel model, TransformerConfig config)
    {
        foreach (var block in model.Stack.Blocks)
        {
            model.Parameters.ValuesOf(block.Parameters.QkvWeight)[..(2 * config.Channels * config.Channels)].Clear();
            model.Parameters.ValuesOf(block.Parameters.QkvBias)[..(2 * config.Channels)].Clear();
        }
    }
}
