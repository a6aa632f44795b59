using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Diagnostics;
using Pipelines.Components.Models;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Diagnostics;

[TestClass]
public sealed class LayerDiagnosticsTests
{
    internal static readonly TransformerConfig Tiny = new(layerCount: 3, headCount: 2, channels: 8, contextLength: 6, vocabularySize: 11);
    internal static readonly DiagnosticBatch GptBatch = new([1, 4, 6, 0, 2, 3, 3, 5, 9, 10], [4, 6, 0, 2, -1, 5, 9, 10, 1, 2], 2, 5);
    internal static readonly DiagnosticBatch EncoderBatch = new([1, 4, 6, 0, 2, 3, 3, 5, 9, 10, 7, 7], [0, 2, 1], 3, 4, KeyMask: [1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0]);

    [TestMethod]
    public void BlockOutputGradientSumsMatchFiniteDifferencesOfTheOutputBias()
    {
        // out.bias is added to every row of the block's output h(l), so dL/d(out.bias) = Σ_rows dL/dh(l): a finite-difference
        // check that the gradients Gh is built from are the model's.
        foreach (var model in new ITransformerModel[] { RaisedGpt(), RaisedEncoder() })
        {
            var batch = model is GptModel ? GptBatch : EncoderBatch;
            LayerDiagnostics.Measure(model, [batch]);
            for (var layer = 0; layer < Tiny.LayerCount; layer++)
            {
                var gradient = model.Stack.BlockOutputGradient(layer);
                var analytic = new float[Tiny.Channels];
                for (var row = 0; row < batch.BatchSize * batch.TokenCount; row++)
                {
                    for (var channel = 0; channel < Tiny.Channels; channel++) analytic[channel] += gradient[row * Tiny.Channels + channel];
                }

                var bias = model.Parameters.ValuesOf(model.Stack.Blocks[layer].Parameters.ContractBias).ToArray();
                var numerical = GradientCheck.Numerical(() =>
                {
                    bias.CopyTo(model.Parameters.ValuesOf(model.Stack.Blocks[layer].Parameters.ContractBias));
                    return ModelRunner.Forward(model, batch);
                }, bias, epsilon: 1e-2);
                bias.CopyTo(model.Parameters.ValuesOf(model.Stack.Blocks[layer].Parameters.ContractBias));
                GradientCheck.AssertClose(numerical, analytic, $"{model.GetType().Name} layer {layer}", relative: 3e-2, absolute: 1e-4);
            }
        }
    }

    [TestMethod]
    public void ActivationGradientNormIsTheMeanPerExampleNorm()
    {
        var model = RaisedEncoder();
        var metrics = LayerDiagnostics.Measure(model, [EncoderBatch]);
        for (var layer = 0; layer < Tiny.LayerCount; layer++)
        {
            var gradient = model.Stack.BlockOutputGradient(layer);
            var exampleLength = EncoderBatch.TokenCount * Tiny.Channels;
            double expected = 0;
            for (var example = 0; example < EncoderBatch.BatchSize; example++)
            {
                double squares = 0;
                for (var index = 0; index < exampleLength; index++) squares += Math.Pow(gradient[example * exampleLength + index], 2);
                expected += Math.Sqrt(squares) / EncoderBatch.BatchSize;
            }

            Assert.AreEqual(expected, metrics[layer].ActivationGradientNorm, 1e-9 + 1e-6 * expected, $"layer {layer}");
            Assert.IsTrue(expected > 0, $"layer {layer} has a backward signal");
        }
    }

    [TestMethod]
    public void ParameterGradientNormMatchesTheNormOfFiniteDifferenceGradients()
    {
        var model = RaisedGpt();
        var metrics = LayerDiagnostics.Measure(model, [GptBatch]);
        const int layer = 1;
        double squares = 0;
        foreach (var slice in model.Stack.Blocks[layer].Parameters.All)
        {
            var values = model.Parameters.ValuesOf(slice).ToArray();
            var numerical = GradientCheck.Numerical(() =>
            {
                values.CopyTo(model.Parameters.ValuesOf(slice));
                return ModelRunner.Forward(model, GptBatch);
            }, values, epsilon: 1e-2);
            values.CopyTo(model.Parameters.ValuesOf(slice));
            squares += numerical.Sum(value => value * value);
        }

        Assert.AreEqual(Math.Sqrt(squares), metrics[layer].ParameterGradientNorm, 2e-2 * Math.Sqrt(squares));
    }

    [TestMethod]
    public void SeveralBatchesPoolLikeOneBigBatchForEntropy()
    {
        var model = RaisedGpt();
        var first = new DiagnosticBatch(GptBatch.Tokens[..5], GptBatch.Targets[..5], 1, 5);
        var second = new DiagnosticBatch(GptBatch.Tokens[5..], GptBatch.Targets[5..], 1, 5);
        var pooled = LayerDiagnostics.Measure(model, [first, second]);
        var whole = LayerDiagnostics.Measure(model, [GptBatch]);
        for (var layer = 0; layer < Tiny.LayerCount; layer++)
            Assert.AreEqual(whole[layer].AttentionEntropy, pooled[layer].AttentionEntropy, 1e-6, $"layer {layer}");
    }

    [TestMethod]
    public void CkaOfAModelWithItselfIsOneAndDriftsAfterChanges()
    {
        var before = RaisedEncoder();
        var same = RaisedEncoder();
        var metrics = LayerDiagnostics.Measure(before, same, [EncoderBatch], principalComponents: 4);
        foreach (var metric in metrics)
        {
            Assert.AreEqual(1.0, metric.Cka!.Value, 1e-9, $"layer {metric.Layer}");
            Assert.AreEqual(0.0, metric.DeltaCka!.Value, 1e-9, $"layer {metric.Layer}");
        }

        var after = RaisedEncoder();
        var lastFc = after.Parameters.ValuesOf(after.Stack.Blocks[2].Parameters.ExpandWeight);
        GradientCheck.RandomArray(lastFc.Length, 77, scale: 0.5f).CopyTo(lastFc);
        var drifted = LayerDiagnostics.Measure(before, after, [EncoderBatch], principalComponents: 4);
        Assert.AreEqual(0.0, drifted[0].DeltaCka!.Value, 1e-9, "layers below the change keep their representation");
        Assert.IsTrue(drifted[2].DeltaCka!.Value > 1e-3, $"the changed layer drifts ({drifted[2].DeltaCka})");
    }

    [TestMethod]
    public void HiddenStatesKeepOnlyNonPaddingRows()
    {
        var states = LayerDiagnostics.HiddenStates(RaisedEncoder(), [EncoderBatch]);
        Assert.AreEqual(Tiny.LayerCount, states.Count);
        Assert.AreEqual(EncoderBatch.KeyMask!.Count(value => value == 1), states[0].RowCount);
        Assert.AreEqual(Tiny.Channels, states[0].ColumnCount);
    }

    [TestMethod]
    public void EmptyBatchesAndMismatchedModelsAreRejected()
    {
        var model = RaisedGpt();
        Assert.AreEqual("batches", Assert.ThrowsExactly<ArgumentException>(() => LayerDiagnostics.Measure(model, [])).ParamName);
        var other = GptModel.Create(new TransformerConfig(layerCount: 2, headCount: 2, channels: 8, contextLength: 6, vocabularySize: 11), 1, Parallelism.Sequential);
        Assert.AreEqual("tuned", Assert.ThrowsExactly<ArgumentException>(() => LayerDiagnostics.Measure(model, other, [GptBatch], 2)).ParamName);
    }

    /// <summary>A tiny GPT with weights large enough that attention is far from uniform and gradients are not tiny.</summary>
    internal static GptModel RaisedGpt(ulong seed = 3)
    {
        var model = GptModel.Create(Tiny, seed, Parallelism.Sequential);
        Raise(model);
        return model;
    }

    /// <summary>A tiny encoder with raised weights.</summary>
    internal static EncoderClassifier RaisedEncoder(ulong seed = 4)
    {
        var model = EncoderClassifier.Create(Tiny, classCount: 3, seed, Parallelism.Sequential);
        Raise(model);
        return model;
    }

    private static void Raise(ITransformerModel model)
    {
        foreach (var slice in model.Parameters.Parameters)
        {
            if (slice.IsMatrix)
            {
                var values = model.Parameters.ValuesOf(slice);
                for (var index = 0; index < values.Length; index++) values[index] *= 15f;
            }
        }
    }
}
