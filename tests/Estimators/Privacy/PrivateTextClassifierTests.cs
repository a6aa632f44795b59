using Pipelines.Tests.Support;
using Microsoft.ML;
using Pipelines.Components.Backends;
using Pipelines.Components.Diagnostics;
using Pipelines.Components.Models;
using Pipelines.Components.Privacy;
using Pipelines.Components.Serialization;
using Pipelines.Components.Training;
using Pipelines.Estimators.Tests.FineTuning;
using Pipelines.FineTuning;

namespace Pipelines.Estimators.Tests.Privacy;

/// <summary>TextClassifier with the Privacy option: epsilon in every report, the guarantee saved with the model, what is refused.</summary>
[TestClass]
public sealed class PrivateTextClassifierTests
{
    private static readonly DifferentialPrivacy Seeded = new(targetEpsilon: 3) { Delta = 1e-3, Randomness = NoiseRandomness.Seeded, Seed = 12 };

    [TestMethod]
    public void APrivateFitReportsEpsilonEveryStepAndTheGuaranteeTravelsWithTheSavedModel()
    {
        var context = new MLContext(seed: 1);
        var rows = FineTuningData.Messages(120, seed: 4);
        var data = context.Data.LoadFromEnumerable(rows);
        var reports = new List<TrainingProgress>();
        var options = FineTuningData.TinyOptions with { Steps = 12, BatchSize = 12, Privacy = Seeded, Progress = new SynchronousProgress<TrainingProgress>(reports.Add) };
        var model = FineTuningData.Pipeline(context, options).Fit(data);
        var classifier = ((IEnumerable<ITransformer>)model).OfType<TextClassificationTransformer>().Single();

        Assert.AreEqual(12, reports.Count);
        Assert.IsTrue(reports.All(report => report.Epsilon is > 0 and <= 3), "epsilon in every report, within the budget");
        var privacy = classifier.Privacy ?? throw new AssertFailedException("no guarantee on the fitted model");
        Assert.AreEqual(reports[^1].Epsilon!.Value, privacy.Epsilon, 1e-12);
        Assert.AreEqual(12L, privacy.Steps);
        Assert.AreEqual(12.0 / 120, privacy.SamplingRate, 1e-15, "q = batch size / N");
        Assert.IsTrue(privacy.Epsilon is > 2.9 and <= 3, $"the calibrated noise spends the budget: {privacy.Epsilon}");

        var file = Path.Combine(Path.GetTempPath(), $"private-classifier-{Guid.NewGuid():N}.zip");
        try
        {
            context.Model.Save(model, data.Schema, file);
            var fresh = new MLContext(seed: 2);
            var loaded = fresh.Model.Load(file, out _);
            var reloaded = ((IEnumerable<ITransformer>)loaded).OfType<TextClassificationTransformer>().Single();
            Assert.AreEqual(privacy.Epsilon, reloaded.Privacy!.Epsilon, 0, "epsilon read back");
            Assert.AreEqual(privacy.Delta, reloaded.Privacy.Delta, 0, "delta read back");
            CollectionAssert.AreEqual(privacy.ClipNorms.ToArray(), reloaded.Privacy.ClipNorms.ToArray());
            CollectionAssert.AreEqual(FineTuningData.Scores(context, model, data).SelectMany(row => row).ToArray(),
                FineTuningData.Scores(fresh, loaded, fresh.Data.LoadFromEnumerable(rows)).SelectMany(row => row).ToArray(), "same scores after reload");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [TestMethod]
    public void ANonPrivateModelHasNoGuaranteeAndSecureNoiseRefusesASeedAtCreation()
    {
        var context = new MLContext(seed: 1);
        var data = context.Data.LoadFromEnumerable(FineTuningData.Messages(40, seed: 4));
        var model = FineTuningData.Pipeline(context, FineTuningData.TinyOptions with { Steps = 2 }).Fit(data);
        Assert.IsNull(((IEnumerable<ITransformer>)model).OfType<TextClassificationTransformer>().Single().Privacy);

        var exception = Assert.ThrowsExactly<ArgumentException>(() =>
            context.MulticlassClassification.Trainers.TextClassifier(FineTuningData.TinyOptions with { Privacy = new DifferentialPrivacy(1) { Seed = 77 } }));
        StringAssert.Contains(exception.Message, "77");
    }

    [TestMethod]
    public void PrivacyIsRefusedWithLossWeightsOnAnotherBackendAndWithADeltaNotBelowOneOverN()
    {
        var context = new MLContext(seed: 1);
        var data = context.Data.LoadFromEnumerable(FineTuningData.Messages(40, seed: 4));
        var weighted = FineTuningData.TinyOptions with { Steps = 2, Privacy = Seeded, ExampleWeights = Enumerable.Repeat(1f, 40).ToArray() };
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => FineTuningData.Pipeline(context, weighted).Fit(data)).Message, "ExampleWeights");

        var elsewhere = FineTuningData.TinyOptions with { Steps = 2, Privacy = Seeded, Backend = new ElsewhereBackend() };
        StringAssert.Contains(Assert.ThrowsExactly<NotSupportedException>(() => FineTuningData.Pipeline(context, elsewhere).Fit(data)).Message, "managed backend");

        var largeDelta = FineTuningData.TinyOptions with { Steps = 2, Privacy = Seeded with { Delta = 0.05 } };
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => FineTuningData.Pipeline(context, largeDelta).Fit(data)).Message, "1/N = 0.025");
    }

    /// <summary>A backend without per-example gradients: everything but its name and shape is refused.</summary>
    private sealed class ElsewhereBackend : ITrainingBackend
    {
        public string Name => "elsewhere";

        public IBackendLanguageModel CreateLanguageModel(TransformerConfig config, ulong seed) => throw new NotSupportedException();

        public IBackendLanguageModel LoadLanguageModel(TransformerConfig config, Stream safeTensors) => throw new NotSupportedException();

        public IBackendClassifier CreateClassifier(TransformerConfig config, int classCount, ulong seed) => new Classifier(this, config, classCount);

        public IBackendClassifier LoadClassifier(TransformerConfig config, int classCount, Stream safeTensors) => throw new NotSupportedException();

        private sealed class Classifier(ITrainingBackend backend, TransformerConfig config, int classCount) : IBackendClassifier
        {
            public TransformerConfig Config => config;

            public int ClassCount => classCount;

            public long ParameterCount => 0;

            public ITrainingBackend Backend => backend;

            public void SetTrainable(Func<string, bool> isTrainable) => throw new NotSupportedException();

            public int LoadPretrainedBody(SafeTensorFile file) => throw new NotSupportedException();

            public ClassifierTrainingResult Train(ClassifierTrainingRun run) => throw new AssertFailedException("a private run must not reach the non-private trainer");

            public ClassifierEvaluation Evaluate(LabeledSequences data, ClassifierTrainerOptions options) => throw new NotSupportedException();

            public void Predict(ReadOnlySpan<int> tokens, int maximumLength, Span<float> probabilities) => throw new NotSupportedException();

            public void SaveSafeTensors(Stream stream, IReadOnlyDictionary<string, string>? metadata = null) => throw new NotSupportedException();

            public IReadOnlyList<LayerMetrics> Diagnose(IReadOnlyList<DiagnosticBatch> batches, IBackendClassifier? comparison, int principalComponents) => throw new NotSupportedException();

            public void Dispose()
            {
            }
        }
    }
}
