using Pipelines.Tests.Support;
using Pipelines.Estimators.Tests.Support;
using Microsoft.ML;
using Pipelines.Components.Backends;
using Pipelines.Components.Compute;
using Pipelines.Components.Lora;
using Pipelines.Components.Models;
using Pipelines.Components.Privacy;
using Pipelines.Components.Serialization;
using Pipelines.Components.Training;
using Pipelines.Estimators.Tests.FineTuning;
using Pipelines.FineTuning;
using Pipelines.Lora;

namespace Pipelines.Estimators.Tests.Privacy;

/// <summary>TextClassifier with both Adaptation (LoRA) and Privacy: private LoRA fine-tuning, the setting of RLDP (arXiv 2507.22565).</summary>
[TestClass]
public sealed class PrivateLoraFineTuningTests
{
    private static readonly TransformerConfig Shape = new(layerCount: 2, headCount: 2, channels: 16, contextLength: 48);

    private static readonly DifferentialPrivacy Seeded = new(targetEpsilon: 3) { Delta = 1e-3, Randomness = NoiseRandomness.Seeded, Seed = 12 };

    [TestMethod]
    public void PrivateLoraReportsEpsilonMovesOnlyTheAdaptedWeightsThroughTheMergeAndRoundTrips()
    {
        using var source = new PretrainedBody(new TransformerConfig(Shape.LayerCount, Shape.HeadCount, Shape.Channels, Shape.ContextLength, vocabularySize: 300));
        var context = new MLContext(seed: 1);
        var raw = context.Data.LoadFromEnumerable(FineTuningData.Messages(120, seed: 4));
        var data = context.Transforms.Conversion.MapValueToKey("Label").Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 300)).Fit(raw).Transform(raw);
        var reports = new List<TrainingProgress>();
        var options = FineTuningData.TinyOptions with
        {
            Model = Shape, PretrainedWeightsPath = source.Path, Adaptation = FineTuningAdaptation.LoraEverywhere(rank: 2, alpha: 4),
            Privacy = Seeded, Steps = 12, BatchSize = 12, Progress = new SynchronousProgress<TrainingProgress>(reports.Add),
        };

        var fitted = context.MulticlassClassification.Trainers.TextClassifier(options).Fit(data);

        Assert.AreEqual(12, reports.Count);
        Assert.IsTrue(reports.All(report => report.Epsilon is > 0 and <= 3), "epsilon in every report, within the budget");
        var privacy = fitted.Privacy ?? throw new AssertFailedException("no guarantee on the fitted model");
        Assert.AreEqual(reports[^1].Epsilon!.Value, privacy.Epsilon, 1e-12);
        Assert.IsTrue(privacy.Epsilon is > 2.9 and <= 3, $"the calibrated noise spends the budget: {privacy.Epsilon}");

        var model = (ManagedClassifier)fitted.Model;
        var adapter = model.Adapter ?? throw new AssertFailedException("the private LoRA run keeps its adapter (the plan was not ignored)");
        Assert.AreEqual(2 * LoraProjections.All.Count, adapter.Modules.Count);
        var initial = SafeTensors.Read(source.Path);
        var changed = new List<string>();
        foreach (var parameter in model.Parameters.Parameters)
        {
            if (parameter.Name.StartsWith("head.", StringComparison.Ordinal)) continue;
            var values = model.Parameters.ValuesOf(parameter).ToArray();
            var before = initial[parameter.Name].ToSingleArray();
            var module = adapter.Modules.SingleOrDefault(candidate => candidate.BaseWeightName == parameter.Name);
            if (module is null)
            {
                CollectionAssert.AreEqual(before, values, $"{parameter.Name} is frozen and not adapted: unchanged bit for bit");
                continue;
            }

            var delta = adapter.Delta(module);
            for (var index = 0; index < values.Length; index++) Assert.AreEqual(before[index] + delta[index], values[index], 1e-6, $"{parameter.Name}[{index}] = W0 + scale·BA");
            if (delta.Any(value => value != 0)) changed.Add(parameter.Name);
        }

        Assert.AreEqual(adapter.Modules.Count, changed.Count, "every adapted projection moved (noise reaches every B)");

        var file = Path.Combine(Path.GetTempPath(), $"private-lora-{Guid.NewGuid():N}.zip");
        try
        {
            context.Model.Save(fitted, data.Schema, file);
            var fresh = new MLContext(seed: 2);
            var loaded = fresh.Model.Load(file, out _);
            var reloaded = (TextClassificationTransformer)loaded;
            Assert.AreEqual(privacy.Epsilon, reloaded.Privacy!.Epsilon, 0, "epsilon read back");
            CollectionAssert.AreEqual(FineTuningData.Scores(context, fitted, data).SelectMany(row => row).ToArray(),
                FineTuningData.Scores(fresh, loaded, data).SelectMany(row => row).ToArray(), "same scores after reload");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
