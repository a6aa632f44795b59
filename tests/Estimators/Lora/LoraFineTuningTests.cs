using Pipelines.Tests.Support;
using Pipelines.Estimators.Tests.Support;
using Microsoft.ML;
using Pipelines.Components.Backends;
using Pipelines.Components.Compute;
using Pipelines.Components.Lora;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using Pipelines.Components.Training;
using Pipelines.Estimators.Tests.FineTuning;
using Pipelines.FineTuning;
using Pipelines.Lora;

namespace Pipelines.Estimators.Tests.Lora;

/// <summary>The Adaptation option of the text classifier: LoRA on a frozen pre-trained body, saving, resuming, bad plans.</summary>
[TestClass]
public sealed class LoraFineTuningTests
{
    private static readonly TransformerConfig Shape = new(layerCount: 2, headCount: 2, channels: 16, contextLength: 48);

    [TestMethod]
    public void LoraTrainsOnlyTheAdaptersAndTheHeadAndMergesThemIntoTheWeights()
    {
        using var source = new PretrainedBody(new TransformerConfig(Shape.LayerCount, Shape.HeadCount, Shape.Channels, Shape.ContextLength, vocabularySize: 300));
        var (context, data) = Tokenized(80, seed: 3);
        var plan = LoraInjectionPlan.Uniform([1], rank: 2, alpha: 4, [LoraProjection.Qkv, LoraProjection.Contract]);
        var options = FineTuningData.TinyOptions with { Model = Shape, PretrainedWeightsPath = source.Path, Adaptation = FineTuningAdaptation.Lora(plan), Steps = 40 };

        var fitted = context.MulticlassClassification.Trainers.TextClassifier(options).Fit(data);

        var model = (ManagedClassifier)fitted.Model;
        var adapter = model.Adapter ?? throw new AssertFailedException("the LoRA run keeps its adapter");
        Assert.AreEqual(plan.ToJson(), adapter.Plan.ToJson());
        var initial = SafeTensors.Read(source.Path);
        var changed = new List<string>();
        foreach (var parameter in model.Parameters.Parameters)
        {
            var values = model.Parameters.ValuesOf(parameter).ToArray();
            if (parameter.Name.StartsWith("head.", StringComparison.Ordinal)) continue;
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

        CollectionAssert.AreEquivalent(new[] { LoraProjections.ModulePath(1, LoraProjection.Qkv) + ".weight", LoraProjections.ModulePath(1, LoraProjection.Contract) + ".weight" }, changed.ToArray(), "exactly the adapted weights moved");
        Assert.AreEqual(2, changed.Count, "both adapted projections learned");
        var history = fitted.TrainingResult!.History;
        Assert.IsTrue(history.TakeLast(10).Average(step => step.TrainingLoss) < history.Take(10).Average(step => step.TrainingLoss), "the loss falls");

        // The trained adapter saves on its own in PEFT's files, loads back for this base, and is refused for another.
        var directory = Directory.CreateTempSubdirectory("lora-adapter-").FullName;
        try
        {
            LoraAdapterFiles.Save(adapter, directory);
            var loaded = LoraAdapterFiles.Load(directory, fitted.ModelConfig);
            CollectionAssert.AreEqual(adapter.Parameters.Values.ToArray(), loaded.Parameters.Values.ToArray());
            var wider = new TransformerConfig(Shape.LayerCount, Shape.HeadCount, 32, Shape.ContextLength, fitted.ModelConfig.VocabularySize);
            var refused = Assert.ThrowsExactly<InvalidDataException>(() => LoraAdapterFiles.Load(directory, wider));
            StringAssert.Contains(refused.Message, "'base_model.model.blocks.1.qkv.lora_A.weight'");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void ASavedLoraChainLoadsBackWithIdenticalPredictions()
    {
        using var source = new PretrainedBody(new TransformerConfig(Shape.LayerCount, Shape.HeadCount, Shape.Channels, Shape.ContextLength, vocabularySize: 300));
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"lora-chain-{Guid.NewGuid():N}.zip");
        try
        {
            var context = new MLContext(seed: 2);
            var raw = context.Data.LoadFromEnumerable(FineTuningData.Messages(60, seed: 4));
            var options = FineTuningData.TinyOptions with { Model = Shape, PretrainedWeightsPath = source.Path, Adaptation = FineTuningAdaptation.LoraEverywhere(rank: 4, alpha: 8), Steps = 30 };
            var model = FineTuningData.Pipeline(context, options).Fit(raw);
            context.Model.Save(model, raw.Schema, path);

            var loaded = new MLContext(seed: 9).Model.Load(path, out _);

            var expected = FineTuningData.Scores(context, model, raw).SelectMany(row => row).ToArray();
            CollectionAssert.AreEqual(expected, FineTuningData.Scores(context, loaded, raw).SelectMany(row => row).ToArray(), "bit-identical scores after loading");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void AResumedLoraRunMatchesAnUninterruptedOneAndAResumeUnderAnotherPlanIsRefused()
    {
        using var source = new PretrainedBody(new TransformerConfig(Shape.LayerCount, Shape.HeadCount, Shape.Channels, Shape.ContextLength, vocabularySize: 300));
        var checkpoint = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"lora-{Guid.NewGuid():N}.ckpt");
        try
        {
            var (context, data) = Tokenized(60, seed: 5);
            var plan = LoraInjectionPlan.Uniform([0, 1], rank: 2, alpha: 4, LoraProjections.All, dropout: 0.1);
            var options = FineTuningData.TinyOptions with
            {
                Model = Shape, PretrainedWeightsPath = source.Path, Adaptation = FineTuningAdaptation.Lora(plan), Steps = 10, BatchSize = 6, CheckpointInterval = 3, CheckpointPath = checkpoint,
            };
            var straight = context.MulticlassClassification.Trainers.TextClassifier(options).Fit(data);

            using var cancellation = new CancellationTokenSource();
            var stopAtFive = new SynchronousProgress<TrainingProgress>(report => { if (report.Step == 5) cancellation.Cancel(); });
            Assert.ThrowsExactly<OperationCanceledException>(() => context.MulticlassClassification.Trainers.TextClassifier(options with { Progress = stopAtFive, CancellationToken = cancellation.Token }).Fit(data));
            var resumed = context.MulticlassClassification.Trainers.TextClassifier(options with { ResumePath = checkpoint }).Fit(data);

            Assert.AreEqual(5L, resumed.TrainingResult!.StepsThisRun);
            CollectionAssert.AreEqual(FineTuningData.Scores(context, straight, data).SelectMany(row => row).ToArray(),
                FineTuningData.Scores(context, resumed, data).SelectMany(row => row).ToArray(), "bit-identical after the resume");

            var otherPlan = options with { ResumePath = checkpoint, CheckpointInterval = 0, Adaptation = FineTuningAdaptation.Lora(plan with { Layers = [plan.Layers[1]] }) };
            var refused = Assert.ThrowsExactly<RunChangedException>(() => context.MulticlassClassification.Trainers.TextClassifier(otherPlan).Fit(data));
            StringAssert.Contains(refused.Message, "Adaptation");
            var full = options with { ResumePath = checkpoint, CheckpointInterval = 0, Adaptation = FineTuningAdaptation.Full };
            Assert.ThrowsExactly<RunChangedException>(() => context.MulticlassClassification.Trainers.TextClassifier(full).Fit(data));
        }
        finally
        {
            File.Delete(checkpoint);
        }
    }

    [TestMethod]
    public void BadPlansAreRefusedNamingTheValue()
    {
        var (context, data) = Tokenized(20, seed: 6);
        TextClassificationEstimator With(LoraInjectionPlan plan) =>
            context.MulticlassClassification.Trainers.TextClassifier(FineTuningData.TinyOptions with { Model = Shape, Steps = 1, Adaptation = FineTuningAdaptation.Lora(plan) });

        var missingLayer = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => With(LoraInjectionPlan.Uniform([5], 2, 4, LoraProjections.All)).Fit(data));
        Assert.AreEqual(nameof(LoraLayerPlan.Layer), missingLayer.ParamName);
        StringAssert.Contains(missingLayer.Message, "5");
        var tooWide = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => With(LoraInjectionPlan.Uniform([0], 17, 4, [LoraProjection.Projection])).Fit(data));
        Assert.AreEqual(nameof(LoraLayerPlan.Rank), tooWide.ParamName);
        StringAssert.Contains(tooWide.Message, "17");
        var zero = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => With(LoraInjectionPlan.Uniform([0], 0, 4, [LoraProjection.Qkv])).Fit(data));
        StringAssert.Contains(zero.Message, "0");
        var everywhereZero = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => FineTuningAdaptation.LoraEverywhere(rank: 0));
        Assert.AreEqual("rank", everywhereZero.ParamName);
        var projection = Assert.ThrowsExactly<System.Text.Json.JsonException>(() => LoraInjectionPlan.FromJson("""{"layers":[{"layer":0,"rank":2,"alpha":4,"targets":["lm_head"]}]}"""));
        StringAssert.Contains(projection.Message, "lm_head");
    }

    private static (MLContext Context, IDataView Data) Tokenized(int count, int seed)
    {
        var context = new MLContext(seed: 1);
        var raw = context.Data.LoadFromEnumerable(FineTuningData.Messages(count, seed));
        return (context, context.Transforms.Conversion.MapValueToKey("Label").Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 300)).Fit(raw).Transform(raw));
    }
}
