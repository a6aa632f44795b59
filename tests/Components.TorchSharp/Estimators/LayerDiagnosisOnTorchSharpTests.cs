using Microsoft.ML;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Backends;
using Pipelines.Components.Compute;
using Pipelines.Components.Diagnostics;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using Pipelines.Components.TorchSharp.Backends;
using Pipelines.Components.TorchSharp.Tests.Support;
using Pipelines.Lora;

namespace Pipelines.Components.TorchSharp.Tests.Estimators;

/// <summary><c>mlContext.Lora().Diagnose</c> with <c>Backend = TorchSharp</c>: the managed backend's metrics, CKA and plan on the same rows.</summary>
[TestClass]
public sealed class LayerDiagnosisOnTorchSharpTests
{
    private static readonly TransformerConfig Shape = new(layerCount: 3, headCount: 2, channels: 16, contextLength: 8);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void DiagnosisOnTorchSharpMatchesTheManagedBackend()
    {
        var directory = TestContext.TestRunResultsDirectory ?? Path.GetTempPath();
        var (sourcePath, tunedPath) = (Path.Combine(directory, $"source-{Guid.NewGuid():N}.safetensors"), Path.Combine(directory, $"tuned-{Guid.NewGuid():N}.safetensors"));
        try
        {
            SaveGpt(sourcePath, seed: 91);
            SaveGpt(tunedPath, seed: 92);
            var context = new MLContext(seed: 1);
            var rows = Enumerable.Range(0, 14).Select(row => ManagedModels.Tokens(2 + row % 7, 28, seed: (ulong)row + 400)).ToArray();
            var data = context.Data.LoadFromEnumerable(rows.Select(row => new LabelledTokenRow { Tokens = [.. row.Select(id => (uint)(id + 1))], Label = row.Contains(4) ? 2u : 1u }));
            var options = new LayerDiagnosisOptions
            {
                SourceWeightsPath = sourcePath,
                ComparisonWeightsPath = tunedPath,
                Model = Shape,
                MaximumSequenceLength = 8,
                BatchSize = 6,
                BatchCount = 2,
                PrincipalComponents = 4,
                Seed = 3,
                ThreadCount = 1,
                Inflection = new InflectionOptions { LayerCount = 1 },
            };

            var managed = context.Lora().Diagnose(options).Fit(data);
            var torch = context.Lora().Diagnose(options with { Backend = new TorchSharpBackend(TorchTestDevice.Cpu) }).Fit(data);

            var comparison = new TensorComparison(TestContext, relative: 1e-4, floor: 1e-2);
            foreach (var (name, select) in new (string, Func<LayerMetrics, double>)[]
            {
                ("H", metric => metric.AttentionEntropy),
                ("normalised H", metric => metric.NormalizedAttentionEntropy),
                ("Gh", metric => metric.ActivationGradientNorm),
                ("Gw", metric => metric.ParameterGradientNorm),
                ("CKA", metric => metric.Cka!.Value),
                ("dCKA", metric => metric.DeltaCka!.Value),
            })
            {
                for (var layer = 0; layer < Shape.LayerCount; layer++)
                    comparison.Compare($"{name}({layer})", [(float)select(managed.Metrics[layer])], [(float)select(torch.Metrics[layer])]);
            }

            comparison.Summarize("the diagnosis on TorchSharp against the managed backend");
            CollectionAssert.AreEqual(managed.Inflection.Layers.ToArray(), torch.Inflection.Layers.ToArray());
            Assert.AreEqual(managed.Plan.ToJson(), torch.Plan.ToJson());
            Assert.IsTrue(managed.Metrics.All(metric => metric.DeltaCka > 1e-2), "two different models, so dCKA is not a comparison of zeros");
            Assert.IsFalse(managed.Metrics.SequenceEqual(torch.Metrics), "bit-identical metrics would mean the managed engine ran twice, not libtorch");
        }
        finally
        {
            File.Delete(sourcePath);
            File.Delete(tunedPath);
        }
    }

    [TestMethod]
    public void AComparisonOnAnotherBackendIsRefused()
    {
        var config = new TransformerConfig(Shape.LayerCount, Shape.HeadCount, Shape.Channels, Shape.ContextLength, vocabularySize: 29);
        using var managed = new ManagedBackend(1).CreateClassifier(config, 2, seed: 1);
        using var torch = new TorchSharpBackend(TorchTestDevice.Cpu).CreateClassifier(config, 2, seed: 1);
        DiagnosticBatch[] batches = [new([1, 2, 3, 4], [0, 1], 2, 2)];
        Assert.AreEqual("comparison", Assert.ThrowsExactly<ArgumentException>(() => torch.Diagnose(batches, managed, 4)).ParamName);
        Assert.AreEqual("comparison", Assert.ThrowsExactly<ArgumentException>(() => managed.Diagnose(batches, torch, 4)).ParamName);
        Assert.AreEqual("principalComponents", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => torch.Diagnose(batches, null, 0)).ParamName);
    }

    /// <summary>A seeded GPT of <see cref="Shape"/> over 29 ids with N(0, 0.1²) weights, so attention and the backward signal vary by layer.</summary>
    private static void SaveGpt(string path, ulong seed)
    {
        var model = GptModel.Create(new TransformerConfig(Shape.LayerCount, Shape.HeadCount, Shape.Channels, Shape.ContextLength, vocabularySize: 29), seed, Parallelism.Sequential);
        ManagedModels.Randomize(model.Parameters, seed);
        model.Parameters.SaveSafeTensors(path);
    }
}
