using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.Components.Backends;
using Pipelines.Components.Compute;
using Pipelines.Components.Diagnostics;
using Pipelines.Components.Lora;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using Pipelines.Components.Training;
using Pipelines.Estimators.Tests.FineTuning;
using Pipelines.FineTuning;
using Pipelines.Lora;

namespace Pipelines.Estimators.Tests.Lora;

/// <summary>mlContext.Lora().Diagnose and Selective: the components' measurements through ML.NET, saving, the plan, bad sources.</summary>
[TestClass]
public sealed class LayerDiagnosisTests
{
    private static readonly TransformerConfig Shape = new(layerCount: 3, headCount: 2, channels: 16, contextLength: 48);

    [TestMethod]
    public void DiagnoseMeasuresWhatTheComponentsMeasureOnTheSameRowsAndEmitsTheFindersPlan()
    {
        using var source = new SavedModel(seed: 21);
        var (context, data, sequences) = Tokenized(24, seed: 2);
        var options = new LayerDiagnosisOptions { SourceWeightsPath = source.Path, Model = Shape, BatchSize = 24, BatchCount = 1, MaximumSequenceLength = 48, Seed = 5, ThreadCount = 1 };
        var stages = new List<LayerDiagnosisStage>();

        var diagnosis = context.Lora().Diagnose(options with { Progress = new Reporter<LayerDiagnosisProgress>(report => stages.Add(report.Stage)) }).Fit(data);

        var model = EncoderClassifier.Create(new TransformerConfig(Shape.LayerCount, Shape.HeadCount, Shape.Channels, Shape.ContextLength, vocabularySize: 300), 2, SeededRandom.ForStream(5, 0).NextUInt64(), Parallelism.Sequential);
        PretrainedEncoderBody.Load(model, source.Path);
        var batch = new PaddedSequenceBatch(48);
        batch.Fill(sequences, Enumerable.Range(0, sequences.Count).ToArray());
        var expected = LayerDiagnostics.Measure(model, [new DiagnosticBatch(batch.Tokens.ToArray(), batch.Labels.ToArray(), batch.BatchSize, batch.TokenCount, batch.KeyMask.ToArray())]);
        Assert.HasCount(3, diagnosis.Metrics);
        for (var layer = 0; layer < 3; layer++)
        {
            var (actual, wanted) = (diagnosis.Metrics[layer], expected[layer]);
            Assert.AreEqual(wanted.AttentionEntropy, actual.AttentionEntropy, 1e-4 * wanted.AttentionEntropy, $"H({layer}) over the same rows in another order");
            Assert.AreEqual(wanted.ActivationGradientNorm, actual.ActivationGradientNorm, 1e-4 * wanted.ActivationGradientNorm, $"Gh({layer})");
            Assert.AreEqual(wanted.ParameterGradientNorm, actual.ParameterGradientNorm, 1e-4 * wanted.ParameterGradientNorm, $"Gw({layer})");
            Assert.IsNull(actual.Cka, "no comparison model, no CKA");
        }

        var found = InflectionLayerFinder.Find(diagnosis.Metrics, options.Inflection);
        Assert.AreEqual(found.Plan.ToJson(), diagnosis.Plan.ToJson());
        CollectionAssert.AreEqual(new[] { LayerDiagnosisStage.Measuring, LayerDiagnosisStage.Done }, stages.ToArray());
    }

    [TestMethod]
    public void TheDiagnosisSavesAndLoadsWithItsPlanAndPassesRowsThrough()
    {
        using var source = new SavedModel(seed: 22);
        var (context, data, _) = Tokenized(30, seed: 3);
        var path = Path.Combine(Path.GetTempPath(), $"diagnosis-{Guid.NewGuid():N}.zip");
        try
        {
            var options = new LayerDiagnosisOptions { SourceWeightsPath = source.Path, ComparisonWeightsPath = source.Path, Model = Shape, BatchSize = 8, BatchCount = 2, MaximumSequenceLength = 48, Seed = 1, ThreadCount = 1 };
            var diagnosis = context.Lora().Diagnose(options).Fit(data);
            foreach (var metric in diagnosis.Metrics)
            {
                Assert.AreEqual(1.0, metric.Cka!.Value, 1e-9, "a model compared with itself");
                Assert.AreEqual(0.0, metric.DeltaCka!.Value, 1e-9);
            }

            context.Model.Save(diagnosis, data.Schema, path);
            var loaded = (LayerDiagnosisTransformer)new MLContext(seed: 4).Model.Load(path, out _);

            Assert.AreEqual(diagnosis.Plan.ToJson(), loaded.Plan.ToJson());
            CollectionAssert.AreEqual(diagnosis.Metrics.ToArray(), loaded.Metrics.ToArray());
            CollectionAssert.AreEqual(diagnosis.Inflection.Slopes.ToArray(), loaded.Inflection.Slopes.ToArray());
            Assert.AreEqual(data.Schema.Count, loaded.Transform(data).Schema.Count, "no column added");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void SelectiveDiagnosesThenFineTunesLoraAtTheChosenLayersAndWritesThePlan()
    {
        using var source = new SavedModel(seed: 23);
        var (context, data, _) = Tokenized(40, seed: 4);
        var planPath = Path.Combine(Path.GetTempPath(), $"plan-{Guid.NewGuid():N}.json");
        try
        {
            var diagnosis = new LayerDiagnosisOptions { SourceWeightsPath = source.Path, BatchSize = 8, BatchCount = 2, Seed = 3, Inflection = new() { LayerCount = 1, Rank = 2, Alpha = 4 } };
            var tuning = FineTuningData.TinyOptions with { Model = Shape, Steps = 10 };
            var expectedPlan = context.Lora().Diagnose(diagnosis with { Model = Shape, MaximumSequenceLength = tuning.MaximumSequenceLength, ThreadCount = 1 }).Fit(data).Plan;

            var fitted = context.Lora().Selective(new SelectiveLoraOptions { Diagnosis = diagnosis, FineTuning = tuning, PlanPath = planPath }).Fit(data);

            var adapter = ((ManagedClassifier)fitted.Model).Adapter!;
            Assert.AreEqual(expectedPlan.ToJson(), adapter.Plan.ToJson());
            Assert.AreEqual(expectedPlan.ToJson(), LoraInjectionPlan.Load(planPath).ToJson(), "the written plan reads back");
            Assert.HasCount(1, adapter.Plan.Layers);
        }
        finally
        {
            File.Delete(planPath);
        }
    }

    [TestMethod]
    public void ASourceOfAnotherShapeOrNoSourceIsRefusedNamingIt()
    {
        using var source = new SavedModel(seed: 24);
        var (context, data, _) = Tokenized(30, seed: 5);
        var wide = Assert.ThrowsExactly<InvalidDataException>(() => context.Lora().Diagnose(source.Path, new TransformerConfig(3, 2, 32, 48)).Fit(data));
        StringAssert.Contains(wide.Message, "wte.weight");
        var deeper = Assert.ThrowsExactly<InvalidDataException>(() => context.Lora().Diagnose(source.Path, new TransformerConfig(4, 2, 16, 48)).Fit(data));
        StringAssert.Contains(deeper.Message, "blocks.3");
        var none = Assert.ThrowsExactly<ArgumentException>(() => context.Lora().Diagnose(new LayerDiagnosisOptions()));
        Assert.AreEqual(nameof(LayerDiagnosisOptions.SourceWeightsPath), none.ParamName);
        var batch = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LayerDiagnosisOptions { BatchCount = 0 });
        StringAssert.Contains(batch.Message, "BatchCount cannot be 0");
    }

    [TestMethod]
    public void LoraOnABackendOtherThanTheManagedOneIsRefusedNamingManagedBackend()
    {
        // The diagnosis itself runs on any backend (tests/Components.TorchSharp: LayerDiagnosisOnTorchSharpTests); the adapters train on the managed one only.
        var context = new MLContext(seed: 1);
        var elsewhere = new ElsewhereBackend();
        var selective = Assert.ThrowsExactly<NotSupportedException>(() => context.Lora().Selective(new SelectiveLoraOptions
        {
            Diagnosis = new LayerDiagnosisOptions { SourceWeightsPath = "source.safetensors" },
            FineTuning = new TextClassificationOptions { Backend = elsewhere },
        }));
        StringAssert.Contains(selective.Message, "ManagedBackend");
        var lora = Assert.ThrowsExactly<NotSupportedException>(() => context.MulticlassClassification.Trainers.TextClassifier(
            new TextClassificationOptions { Backend = elsewhere, Adaptation = FineTuningAdaptation.LoraEverywhere(rank: 2) }));
        StringAssert.Contains(lora.Message, "ManagedBackend");
        _ = context.Lora().Diagnose(new LayerDiagnosisOptions { SourceWeightsPath = "source.safetensors", Backend = new ManagedBackend(1) });
    }

    private static (MLContext Context, IDataView Data, LabeledSequences Sequences) Tokenized(int count, int seed)
    {
        var context = new MLContext(seed: 1);
        var raw = context.Data.LoadFromEnumerable(FineTuningData.Messages(count, seed));
        var data = context.Transforms.Conversion.MapValueToKey("Label").Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 300)).Fit(raw).Transform(raw);
        var tokens = data.GetColumn<VBuffer<uint>>("Tokens").Select(row => row.DenseValues().Select(key => (int)key - 1).ToArray()).ToArray();
        var labels = data.GetColumn<uint>("Label").Select(key => (int)key - 1).ToArray();
        return (context, data, new LabeledSequences(tokens, labels));
    }

    /// <summary>A backend the diagnosis cannot run on; it is refused before any of its members is called.</summary>
    private sealed class ElsewhereBackend : ITrainingBackend
    {
        public string Name => "elsewhere";

        public IBackendLanguageModel CreateLanguageModel(TransformerConfig config, ulong seed) => throw new AssertFailedException("not reached");

        public IBackendLanguageModel LoadLanguageModel(TransformerConfig config, Stream safeTensors) => throw new AssertFailedException("not reached");

        public IBackendClassifier CreateClassifier(TransformerConfig config, int classCount, ulong seed) => throw new AssertFailedException("not reached");

        public IBackendClassifier LoadClassifier(TransformerConfig config, int classCount, Stream safeTensors) => throw new AssertFailedException("not reached");
    }

    private sealed class Reporter<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>A seeded GPT of <see cref="Shape"/> (vocabulary 300) saved as safetensors.</summary>
    private sealed class SavedModel : IDisposable
    {
        public SavedModel(ulong seed) =>
            GptModel.Create(new TransformerConfig(Shape.LayerCount, Shape.HeadCount, Shape.Channels, Shape.ContextLength, vocabularySize: 300), seed, Parallelism.Sequential).Parameters.SaveSafeTensors(Path);

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"diagnosis-source-{Guid.NewGuid():N}.safetensors");

        public void Dispose() => File.Delete(Path);
    }
}
