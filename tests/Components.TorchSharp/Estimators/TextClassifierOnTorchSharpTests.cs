using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Backends;
using Pipelines.Components.Models;
using Pipelines.Components.TorchSharp.Backends;
using Pipelines.Components.TorchSharp.Tests.Support;
using Pipelines.FineTuning;

namespace Pipelines.Components.TorchSharp.Tests.Estimators;

/// <summary>A labelled row: token keys (id + 1) of a 29-id vocabulary and a key label of two classes.</summary>
public sealed class LabelledTokenRow
{
    [KeyType(29)]
    public uint[] Tokens { get; set; } = [];

    [KeyType(2)]
    public uint Label { get; set; }
}

/// <summary>The text classifier with <c>Backend = TorchSharp</c>: it fine-tunes, saves and loads back onto the managed engine with the same scores.</summary>
[TestClass]
public sealed class TextClassifierOnTorchSharpTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void FineTunesOnTorchSharpAndScoresTheSameAfterLoadingOntoTheManagedEngine()
    {
        var context = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 30).Select(row => ManagedModels.Tokens(3 + row % 6, 28, seed: (ulong)row + 200)).ToArray();
        var data = context.Data.LoadFromEnumerable(rows.Select(row => new LabelledTokenRow { Tokens = [.. row.Select(id => (uint)(id + 1))], Label = row.Contains(4) ? 2u : 1u }));
        var options = new TextClassificationOptions
        {
            Model = new TransformerConfig(layerCount: 1, headCount: 2, channels: 16, contextLength: 8),
            MaximumSequenceLength = 8,
            BatchSize = 6,
            Steps = 5,
            ThreadCount = 1,
            Seed = 2,
            Backend = new TorchSharpBackend(TorchTestDevice.Cpu),
        };

        var fitted = context.MulticlassClassification.Trainers.TextClassifier(options).Fit(data);
        Assert.IsInstanceOfType<TorchClassifier>(fitted.Model);
        var path = Path.Combine(TestContext.TestRunResultsDirectory ?? Path.GetTempPath(), $"torchsharp-classifier-{Guid.NewGuid():N}.zip");
        try
        {
            context.Model.Save(fitted, data.Schema, path);
            var loaded = (TextClassificationTransformer)new MLContext(seed: 2).Model.Load(path, out _);
            Assert.IsInstanceOfType<ManagedClassifier>(loaded.Model);
            var expected = fitted.Transform(data).GetColumn<VBuffer<float>>("Score").Select(score => score.DenseValues().ToArray()).ToArray();
            var actual = loaded.Transform(data).GetColumn<VBuffer<float>>("Score").Select(score => score.DenseValues().ToArray()).ToArray();
            Assert.HasCount(rows.Length, actual);
            for (var row = 0; row < rows.Length; row++)
                for (var slot = 0; slot < 2; slot++)
                    Assert.AreEqual(expected[row][slot], actual[row][slot], 1e-4f * Math.Abs(expected[row][slot]), $"row {row}, class {slot}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void LoraIsRefusedNamingTheManagedBackend()
    {
        var context = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 12).Select(row => ManagedModels.Tokens(3 + row % 4, 28, seed: (ulong)row + 300)).ToArray();
        var data = context.Data.LoadFromEnumerable(rows.Select(row => new LabelledTokenRow { Tokens = [.. row.Select(id => (uint)(id + 1))], Label = row.Contains(4) ? 2u : 1u }));
        var options = new TextClassificationOptions
        {
            Model = new TransformerConfig(layerCount: 1, headCount: 2, channels: 16, contextLength: 8),
            MaximumSequenceLength = 8,
            BatchSize = 6,
            Steps = 2,
            Seed = 2,
            Backend = new TorchSharpBackend(TorchTestDevice.Cpu),
            Adaptation = Pipelines.Lora.FineTuningAdaptation.LoraEverywhere(rank: 2),
        };

        var refused = Assert.ThrowsExactly<NotSupportedException>(() => context.MulticlassClassification.Trainers.TextClassifier(options).Fit(data));
        StringAssert.Contains(refused.Message, "ManagedBackend");
    }
}
