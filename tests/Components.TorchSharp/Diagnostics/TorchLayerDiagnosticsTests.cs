using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Diagnostics;
using Pipelines.Components.Models;
using Pipelines.Components.TorchSharp.Diagnostics;
using Pipelines.Components.TorchSharp.Tests.Support;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Tests.Diagnostics;

/// <summary>
/// <see cref="TorchLayerDiagnostics"/> against the managed <see cref="LayerDiagnostics"/>: from the same weights (a seeded
/// managed model copied in with <c>LoadFrom</c>) and the same batches, every metric agrees within 1e-4 relative and the
/// inflection layers are the same; per layer, the captured attention probabilities, block outputs and dL/dh agree element
/// by element (a wrong causal or padding mask fails there first).
/// </summary>
[TestClass]
public sealed class TorchLayerDiagnosticsTests
{
    private const double Relative = 1e-4;
    private const double Floor = 1e-2;
    private static readonly TransformerConfig Config = new(layerCount: 4, headCount: 4, channels: 32, contextLength: 12, vocabularySize: 40);
    private const int ClassCount = 3;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void GptMetricsMatchTheManagedEngine()
    {
        var managed = GptModel.Create(Config, seed: 5, new Parallelism(2));
        ManagedModels.Randomize(managed.Parameters, seed: 31);
        var batches = GptBatches();
        var expected = LayerDiagnostics.Measure(managed, batches);

        using var scope = NewDisposeScope();
        using var module = new TorchGptModel(Config, TorchTestDevice.Cpu);
        module.LoadFrom(managed.Parameters);
        var actual = TorchLayerDiagnostics.Measure(module, batches);

        var comparison = new TensorComparison(TestContext, Relative, Floor);
        CompareMetrics(comparison, expected, actual);
        var last = batches[^1];
        var capture = new TorchForwardCapture(attentionProbabilities: true);
        var loss = TorchGptModel.Loss(
            module.Forward(TorchTestDevice.Int64Tensor(last.Tokens, last.BatchSize, last.TokenCount), capture),
            TorchTestDevice.Int64Tensor(last.Targets, last.BatchSize, last.TokenCount));
        CompareLayers(comparison, managed, capture, loss);
        comparison.Summarize("GPT diagnostics, TorchSharp against the managed engine");
        CompareInflection(expected, actual);
    }

    [TestMethod]
    public void EncoderWithPaddingMetricsMatchTheManagedEngine()
    {
        var managed = EncoderClassifier.Create(Config, ClassCount, seed: 6, new Parallelism(2));
        ManagedModels.Randomize(managed.Parameters, seed: 41);
        var batches = EncoderBatches();
        var expected = LayerDiagnostics.Measure(managed, batches);

        using var scope = NewDisposeScope();
        using var module = new TorchEncoderClassifier(Config, ClassCount, TorchTestDevice.Cpu);
        module.LoadFrom(managed.Parameters);
        var actual = TorchLayerDiagnostics.Measure(module, batches);

        var comparison = new TensorComparison(TestContext, Relative, Floor);
        CompareMetrics(comparison, expected, actual);
        var last = batches[^1];
        var capture = new TorchForwardCapture(attentionProbabilities: true);
        var loss = TorchEncoderClassifier.Loss(
            module.Forward(TorchTestDevice.Int64Tensor(last.Tokens, last.BatchSize, last.TokenCount), KeyMask(last), capture),
            TorchTestDevice.Int64Tensor(last.Targets, last.BatchSize));
        CompareLayers(comparison, managed, capture, loss);
        comparison.Summarize("encoder diagnostics with padding, TorchSharp against the managed engine");
        CompareInflection(expected, actual);
    }

    [TestMethod]
    public void EncoderDeltaCkaMatchesTheManagedEngine()
    {
        var source = EncoderClassifier.Create(Config, ClassCount, seed: 7, new Parallelism(2));
        var tuned = EncoderClassifier.Create(Config, ClassCount, seed: 8, new Parallelism(2));
        ManagedModels.Randomize(source.Parameters, seed: 51);
        ManagedModels.Randomize(tuned.Parameters, seed: 52);
        var batches = EncoderBatches();
        var expected = LayerDiagnostics.Measure(source, tuned, batches, principalComponents: 8);

        using var scope = NewDisposeScope();
        using var torchSource = new TorchEncoderClassifier(Config, ClassCount, TorchTestDevice.Cpu);
        using var torchTuned = new TorchEncoderClassifier(Config, ClassCount, TorchTestDevice.Cpu);
        torchSource.LoadFrom(source.Parameters);
        torchTuned.LoadFrom(tuned.Parameters);
        var actual = TorchLayerDiagnostics.Measure(torchSource, torchTuned, batches, principalComponents: 8);

        var comparison = new TensorComparison(TestContext, Relative, Floor);
        CompareMetrics(comparison, expected, actual);
        comparison.Compare("CKA", expected.Select(metric => (float)metric.Cka!.Value).ToArray(), actual.Select(metric => (float)metric.Cka!.Value).ToArray());
        comparison.Compare("dCKA", expected.Select(metric => (float)metric.DeltaCka!.Value).ToArray(), actual.Select(metric => (float)metric.DeltaCka!.Value).ToArray());
        var expectedStates = LayerDiagnostics.HiddenStates(tuned, batches);
        var actualStates = TorchLayerDiagnostics.HiddenStates(torchTuned, batches);
        for (var layer = 0; layer < Config.LayerCount; layer++)
        {
            Assert.AreEqual(expectedStates[layer].RowCount, actualStates[layer].RowCount, $"layer {layer}: valid rows only");
            comparison.Compare($"hidden states {layer}", ToSingles(expectedStates[layer].ToRowMajorArray()), ToSingles(actualStates[layer].ToRowMajorArray()));
        }

        comparison.Summarize("encoder CKA and dCKA, TorchSharp against the managed engine");
        Assert.IsTrue(expected.All(metric => metric.DeltaCka > 1e-2), "the two models differ, so dCKA is well away from 0 and its relative error means something");
    }

    [TestMethod]
    public void GptDeltaCkaMatchesTheManagedEngine()
    {
        var source = GptModel.Create(Config, seed: 11, new Parallelism(2));
        var tuned = GptModel.Create(Config, seed: 12, new Parallelism(2));
        ManagedModels.Randomize(source.Parameters, seed: 53);
        ManagedModels.Randomize(tuned.Parameters, seed: 54);
        var batches = GptBatches();
        var expected = LayerDiagnostics.Measure(source, tuned, batches, principalComponents: 8);

        using var scope = NewDisposeScope();
        using var torchSource = new TorchGptModel(Config, TorchTestDevice.Cpu);
        using var torchTuned = new TorchGptModel(Config, TorchTestDevice.Cpu);
        torchSource.LoadFrom(source.Parameters);
        torchTuned.LoadFrom(tuned.Parameters);
        var actual = TorchLayerDiagnostics.Measure(torchSource, torchTuned, batches, principalComponents: 8);

        var comparison = new TensorComparison(TestContext, Relative, Floor);
        CompareMetrics(comparison, expected, actual);
        comparison.Compare("CKA", expected.Select(metric => (float)metric.Cka!.Value).ToArray(), actual.Select(metric => (float)metric.Cka!.Value).ToArray());
        comparison.Compare("dCKA", expected.Select(metric => (float)metric.DeltaCka!.Value).ToArray(), actual.Select(metric => (float)metric.DeltaCka!.Value).ToArray());
        comparison.Summarize("GPT CKA and dCKA, TorchSharp against the managed engine");
        Assert.IsTrue(expected.All(metric => metric.DeltaCka > 1e-2), "the two models differ, so dCKA is well away from 0");
    }

    [TestMethod]
    public void CaptureLeavesTheTrainingForwardUnchanged()
    {
        var gpt = GptModel.Create(Config, seed: 9, Parallelism.Sequential);
        ManagedModels.Randomize(gpt.Parameters, seed: 61);
        var encoder = EncoderClassifier.Create(Config, ClassCount, seed: 10, Parallelism.Sequential);
        ManagedModels.Randomize(encoder.Parameters, seed: 62);
        var batch = EncoderBatches()[0];

        using var scope = NewDisposeScope();
        using var gptModule = new TorchGptModel(Config, TorchTestDevice.Cpu);
        using var encoderModule = new TorchEncoderClassifier(Config, ClassCount, TorchTestDevice.Cpu);
        gptModule.LoadFrom(gpt.Parameters);
        encoderModule.LoadFrom(encoder.Parameters);
        var tokens = TorchTestDevice.Int64Tensor(batch.Tokens, batch.BatchSize, batch.TokenCount);
        foreach (var attention in new[] { false, true })
        {
            var capture = new TorchForwardCapture(attention);
            CollectionAssert.AreEqual(TorchParameters.ToSingleArray(gptModule.forward(tokens)), TorchParameters.ToSingleArray(gptModule.Forward(tokens, capture)), $"GPT logits, attention captured: {attention}");
            Assert.AreEqual(Config.LayerCount, capture.BlockOutputs.Count);
            Assert.AreEqual(attention ? Config.LayerCount : 0, capture.AttentionProbabilities.Count);
            CollectionAssert.AreEqual(TorchParameters.ToSingleArray(encoderModule.forward(tokens, KeyMask(batch))), TorchParameters.ToSingleArray(encoderModule.Forward(tokens, KeyMask(batch), capture)), $"encoder logits, attention captured: {attention}");
            Assert.AreEqual(Config.LayerCount, capture.BlockOutputs.Count, "a second forward replaces the first one's record");
        }
    }

    [TestMethod]
    public void BadInputNamesTheParameter()
    {
        using var module = new TorchEncoderClassifier(Config, ClassCount, TorchTestDevice.Cpu);
        var empty = Assert.ThrowsExactly<ArgumentException>(() => TorchLayerDiagnostics.Measure(module, []));
        Assert.AreEqual("batches", empty.ParamName);
        var outside = new DiagnosticBatch([1, 2, 99, 3], [0, 1], 2, 2);
        var token = Assert.ThrowsExactly<ArgumentException>(() => TorchLayerDiagnostics.Measure(module, [outside]));
        Assert.AreEqual("batches", token.ParamName);
        StringAssert.Contains(token.Message, "99");
        var label = Assert.ThrowsExactly<ArgumentException>(() => TorchLayerDiagnostics.Measure(module, [new DiagnosticBatch([1, 2, 3, 4], [0, ClassCount], 2, 2)]));
        StringAssert.Contains(label.Message, ClassCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var components = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TorchLayerDiagnostics.Measure(module, module, EncoderBatches(), principalComponents: 0));
        Assert.AreEqual("principalComponents", components.ParamName);
        using var other = new TorchEncoderClassifier(new TransformerConfig(layerCount: 2, Config.HeadCount, Config.Channels, Config.ContextLength, Config.VocabularySize), ClassCount, TorchTestDevice.Cpu);
        var shapes = Assert.ThrowsExactly<ArgumentException>(() => TorchLayerDiagnostics.Measure(module, other, EncoderBatches(), principalComponents: 4));
        Assert.AreEqual("tuned", shapes.ParamName);
    }

    private void CompareMetrics(TensorComparison comparison, IReadOnlyList<LayerMetrics> expected, IReadOnlyList<LayerMetrics> actual)
    {
        Assert.AreEqual(expected.Count, actual.Count);
        foreach (var (name, select) in new (string, Func<LayerMetrics, double>)[]
        {
            ("H", metric => metric.AttentionEntropy),
            ("normalised H", metric => metric.NormalizedAttentionEntropy),
            ("Gh", metric => metric.ActivationGradientNorm),
            ("Gw", metric => metric.ParameterGradientNorm),
        })
        {
            // Per layer, so one layer's small value is judged on its own scale, not the largest layer's.
            for (var layer = 0; layer < expected.Count; layer++)
            {
                var (want, got) = (select(expected[layer]), select(actual[layer]));
                TestContext.WriteLine($"{name}({layer}): managed {want:G9}, TorchSharp {got:G9}");
                comparison.Compare($"{name}({layer})", [(float)want], [(float)got]);
                Assert.IsTrue(want > 0, $"{name}({layer}) is positive, so the comparison is not of zeros");
            }
        }
    }

    /// <summary>Per layer, the last batch's attention probabilities, block output h(l) and dL/dh(l), element by element.</summary>
    private static void CompareLayers(TensorComparison comparison, ITransformerModel managed, TorchForwardCapture capture, Tensor loss)
    {
        foreach (var output in capture.BlockOutputs) output.retain_grad();
        loss.backward();
        for (var layer = 0; layer < Config.LayerCount; layer++)
        {
            comparison.Compare($"attention probabilities {layer}", managed.Stack.Blocks[layer].AttentionProbabilities, TorchParameters.ToSingleArray(capture.AttentionProbabilities[layer]));
            comparison.Compare($"h({layer})", managed.Stack.BlockOutput(layer), TorchParameters.ToSingleArray(capture.BlockOutputs[layer]));
            comparison.Compare($"dL/dh({layer})", managed.Stack.BlockOutputGradient(layer), TorchParameters.ToSingleArray(capture.BlockOutputs[layer].grad!));
        }
    }

    private void CompareInflection(IReadOnlyList<LayerMetrics> expected, IReadOnlyList<LayerMetrics> actual)
    {
        foreach (var options in new[]
        {
            new InflectionOptions { LayerCount = 1 },
            new InflectionOptions { LayerCount = 2, IncludeNeighbours = true, UseNormalizedEntropy = true },
            new InflectionOptions { Selection = InflectionSelection.AboveMeanPlusDeviation },
        })
        {
            var (want, got) = (InflectionLayerFinder.Find(expected, options), InflectionLayerFinder.Find(actual, options));
            TestContext.WriteLine($"{options.Selection}, k = {options.LayerCount}: managed [{string.Join(", ", want.Layers)}], TorchSharp [{string.Join(", ", got.Layers)}]");
            if (options.Selection == InflectionSelection.TopCount) Assert.IsNotEmpty(want.InflectionLayers, "top-k chooses a layer, so the comparison is not of empty lists");
            CollectionAssert.AreEqual(want.InflectionLayers.ToArray(), got.InflectionLayers.ToArray(), $"inflection layers under {options}");
            CollectionAssert.AreEqual(want.Layers.ToArray(), got.Layers.ToArray(), $"adapted layers under {options}");
            for (var layer = 0; layer < want.Slopes.Count; layer++) Assert.AreEqual(want.Slopes[layer], got.Slopes[layer], 1e-4, $"slope {layer}");
        }
    }

    /// <summary>Two GPT batches of different shapes; one ignored target.</summary>
    private static List<DiagnosticBatch> GptBatches()
    {
        var first = new DiagnosticBatch(ManagedModels.Tokens(3 * 12, Config.VocabularySize, seed: 71), ManagedModels.Tokens(3 * 12, Config.VocabularySize, seed: 72), 3, 12);
        first.Targets[4] = -1;
        var second = new DiagnosticBatch(ManagedModels.Tokens(2 * 9, Config.VocabularySize, seed: 73), ManagedModels.Tokens(2 * 9, Config.VocabularySize, seed: 74), 2, 9);
        return [first, second];
    }

    /// <summary>Two encoder batches with padding, one sequence a single token long.</summary>
    private static List<DiagnosticBatch> EncoderBatches() =>
    [
        EncoderBatch([12, 7, 1, 10], 12, seed: 81, [2, 0, 1, 2]),
        EncoderBatch([5, 8, 3], 8, seed: 82, [1, 1, 0]),
    ];

    private static DiagnosticBatch EncoderBatch(int[] lengths, int tokenCount, ulong seed, int[] labels)
    {
        var mask = new byte[lengths.Length * tokenCount];
        for (var sequence = 0; sequence < lengths.Length; sequence++) mask.AsSpan(sequence * tokenCount, lengths[sequence]).Fill(1);
        return new DiagnosticBatch(ManagedModels.Tokens(mask.Length, Config.VocabularySize, seed), labels, lengths.Length, tokenCount, mask);
    }

    private static Tensor KeyMask(DiagnosticBatch batch) =>
        TorchTestDevice.Int64Tensor(batch.KeyMask!.Select(value => (int)value).ToArray(), batch.BatchSize, batch.TokenCount);

    private static float[] ToSingles(double[] values) => values.Select(value => (float)value).ToArray();
}
