using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Training;

namespace Pipelines.Components.Tests.Training;

/// <summary>A resume under a different run is refused, naming every difference, unless the change is declared on purpose.</summary>
[TestClass]
public sealed class RunRecordTests
{
    private static readonly TransformerConfig Config = new(layerCount: 1, headCount: 2, channels: 8, contextLength: 8, vocabularySize: 11);
    private static readonly LanguageModelTrainingOptions Training = new() { BatchSize = 2, SequenceLength = 8, Steps = 8, EvaluationInterval = 0, Seed = 3 };
    private static readonly int[] Tokens = [.. Enumerable.Range(0, 300).Select(index => (index * 7 + index / 11) % 11)];

    private static GradientTransformOptimizer AdamW(ICausalLanguageModel model, double beta2 = 0.999) =>
        new(Optimizers.AdamW(1e-2, beta2: beta2), model.Parameters);

    private static LanguageModelTrainingResult Train(TransformerConfig config, LanguageModelTrainingOptions options, int[] tokens, string? resumeFrom,
        double beta2, out GptModel model)
    {
        model = GptModel.Create(config, seed: 5, Parallelism.Sequential);
        return new LanguageModelTrainer(model, AdamW(model, beta2), options).Train(tokens, null, resumeFrom: resumeFrom);
    }

    /// <summary>Writes the checkpoint after 4 steps of the base run, then hands its path to <paramref name="test"/>.</summary>
    private static void WithCheckpoint(Action<string> test)
    {
        var directory = Directory.CreateTempSubdirectory("pipelines-run-record-");
        try
        {
            var checkpoint = Path.Combine(directory.FullName, "run.ckpt");
            Train(Config, Training with { Steps = 4, CheckpointInterval = 4, CheckpointPath = checkpoint }, Tokens, null, 0.999, out _);
            test(checkpoint);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    public static IEnumerable<object[]> Changes =>
    [
        // Four heads of width 2 instead of two of width 4: every parameter has the same shape, so only the record can tell.
        ["head count", "model.HeadCount", "2", "4", RunChanges.ModelConfiguration],
        ["batch size", "training.BatchSize", "2", "3", RunChanges.BatchSize],
        ["sequence length", "training.SequenceLength", "8", "6", RunChanges.SequenceLength],
        ["seed", "training.Seed", "3", "4", RunChanges.Seed],
        ["data", "data.Sha256", null!, null!, RunChanges.TrainingData],
        ["beta2", "optimizer.Transforms[0].Beta2", "0.999", "0.99", RunChanges.Optimizer],
    ];

    private static (TransformerConfig Config, LanguageModelTrainingOptions Options, int[] Tokens, double Beta2) Changed(string change) => change switch
    {
        "head count" => (new TransformerConfig(layerCount: 1, headCount: 4, channels: 8, contextLength: 8, vocabularySize: 11), Training, Tokens, 0.999),
        "batch size" => (Config, Training with { BatchSize = 3 }, Tokens, 0.999),
        "sequence length" => (Config, Training with { SequenceLength = 6 }, Tokens, 0.999),
        "seed" => (Config, Training with { Seed = 4 }, Tokens, 0.999),
        "data" => (Config, Training, [.. Tokens[..^1], (Tokens[^1] + 1) % 11], 0.999),
        "beta2" => (Config, Training, Tokens, 0.99),
        _ => throw new AssertFailedException(change),
    };

    [TestMethod]
    [DynamicData(nameof(Changes))]
    public void EachKindOfChangeIsRefusedAndNamed(string change, string name, string checkpointValue, string currentValue, RunChanges kind) => WithCheckpoint(checkpoint =>
    {
        var (config, options, tokens, beta2) = Changed(change);
        GptModel model = null!;

        var error = Assert.ThrowsExactly<RunChangedException>(() => Train(config, options, tokens, checkpoint, beta2, out model));

        Assert.HasCount(1, error.Differences, error.Message);
        var difference = error.Differences[0];
        Assert.AreEqual(name, difference.Name);
        Assert.AreEqual(kind, difference.Kind);
        if (checkpointValue is not null) Assert.AreEqual(checkpointValue, difference.CheckpointValue);
        if (currentValue is not null) Assert.AreEqual(currentValue, difference.CurrentValue);
        Assert.AreNotEqual(difference.CheckpointValue, difference.CurrentValue);
        StringAssert.Contains(error.Message, $"{name}: checkpoint {difference.CheckpointValue}, current {difference.CurrentValue}");
        StringAssert.Contains(error.Message, $"AcceptedChanges = {kind}");
        CollectionAssert.AreEqual(GptModel.Create(config, seed: 5, Parallelism.Sequential).Parameters.Values.ToArray(), model.Parameters.Values.ToArray(),
            "refused before any weight was loaded");
    });

    [TestMethod]
    public void EveryDifferenceIsListedAtOnce() => WithCheckpoint(checkpoint =>
    {
        var error = Assert.ThrowsExactly<RunChangedException>(() => Train(Config, Training with { BatchSize = 3, Seed = 9 }, Tokens, checkpoint, 0.99, out _));

        CollectionAssert.AreEqual(new[] { "training.BatchSize", "training.Seed", "optimizer.Transforms[0].Beta2" }, error.Differences.Select(difference => difference.Name).ToArray());
        Assert.AreEqual(RunChanges.BatchSize | RunChanges.Seed | RunChanges.Optimizer, error.Kinds);
    });

    [TestMethod]
    public void ADeclaredChangeResumesAndTheNextCheckpointHoldsTheNewRun() => WithCheckpoint(checkpoint =>
    {
        var changed = Training with { BatchSize = 3, AcceptedChanges = RunChanges.BatchSize, CheckpointInterval = 4, CheckpointPath = checkpoint };
        Assert.AreEqual(8, Train(Config, changed, Tokens, checkpoint, 0.999, out _).Steps);

        // The checkpoint at step 8 was trained with batch size 3: resuming it with 3 needs no declaration, with 2 it does.
        var again = changed with { Steps = 12, AcceptedChanges = RunChanges.None };
        Assert.AreEqual(12, Train(Config, again, Tokens, checkpoint, 0.999, out _).Steps);
        var back = Assert.ThrowsExactly<RunChangedException>(() => Train(Config, again with { Steps = 16, BatchSize = 2 }, Tokens, checkpoint, 0.999, out _));
        Assert.AreEqual("training.BatchSize: checkpoint 3, current 2", back.Differences.Single().ToString());
    });

    [TestMethod]
    public void ASchedulesChangeWithoutAPlanHookIsRefusedUnlessDeclared() => WithCheckpoint(checkpoint =>
    {
        GptModel Resume(RunChanges accepted)
        {
            var model = GptModel.Create(Config, seed: 5, Parallelism.Sequential);
            var optimizer = new GradientTransformOptimizer(Optimizers.AdamW(2e-2), model.Parameters);
            new LanguageModelTrainer(model, optimizer, Training with { AcceptedChanges = accepted }).Train(Tokens, null, resumeFrom: checkpoint);
            return model;
        }

        var error = Assert.ThrowsExactly<RunChangedException>(() => Resume(RunChanges.None));
        Assert.AreEqual(RunChanges.LearningRateSchedule, error.Kinds);
        StringAssert.Contains(error.Message, "optimizer.Transforms[2].LearningRate.Value: checkpoint 0.01, current 0.02");
        Resume(RunChanges.LearningRateSchedule);
    });

    [TestMethod]
    public void TheSameRunResumesBitIdentically() => WithCheckpoint(checkpoint =>
    {
        Train(Config, Training, Tokens, null, 0.999, out var straight);
        var resumed = Train(Config, Training, Tokens, checkpoint, 0.999, out var model);

        Assert.AreEqual(8, resumed.Steps);
        CollectionAssert.AreEqual(straight.Parameters.Values.ToArray(), model.Parameters.Values.ToArray());
    });

    [TestMethod]
    public void ACheckpointWithoutARunRecordIsRefusedSayingWhy()
    {
        var path = Path.GetTempFileName();
        try
        {
            using (var writer = new BinaryWriter(File.Create(path)))
            {
                writer.Write("PIPELINES-CHECKPOINT");
                writer.Write(1);
                writer.Write(4L);
            }

            var error = Assert.ThrowsExactly<InvalidDataException>(() => Train(Config, Training, Tokens, path, 0.999, out _));

            StringAssert.Contains(error.Message, "format version 1, written before checkpoints recorded their run");
            StringAssert.Contains(error.Message, "refused");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void AClassifierResumeUnderOtherDataIsRefused()
    {
        var directory = Directory.CreateTempSubdirectory("pipelines-run-record-");
        try
        {
            var checkpoint = Path.Combine(directory.FullName, "classifier.ckpt");
            var config = new TransformerConfig(layerCount: 1, headCount: 2, channels: 16, contextLength: 8, vocabularySize: 12);
            var options = new ClassifierTrainerOptions { BatchSize = 4, MaximumSequenceLength = 8, Steps = 4, Seed = 2, CheckpointInterval = 2, CheckpointPath = checkpoint };
            ClassifierTrainingResult Run(ClassifierTrainerOptions runOptions, LabeledSequences data, string? resumeFrom)
            {
                var model = EncoderClassifier.Create(config, classCount: 2, seed: 11, Parallelism.Sequential);
                return new ClassifierTrainer(model, new GradientTransformOptimizer(Optimizers.AdamW(3e-3), model.Parameters), runOptions).Train(data, null, resumeFrom: resumeFrom);
            }

            Run(options with { Steps = 2 }, ClassifierTrainerTests.MarkerTask(20, seed: 1), null);

            var error = Assert.ThrowsExactly<RunChangedException>(() => Run(options, ClassifierTrainerTests.MarkerTask(20, seed: 2), checkpoint));
            Assert.AreEqual("data.Sha256", error.Differences.Single().Name);
            Assert.AreEqual(RunChanges.TrainingData, error.Kinds);
            var sampling = Assert.ThrowsExactly<RunChangedException>(() => Run(options with { Sampling = BatchSampling.WithReplacement }, ClassifierTrainerTests.MarkerTask(20, seed: 1), checkpoint));
            Assert.AreEqual("training.Sampling", sampling.Differences.Single().Name);
            Assert.AreEqual(4, Run(options, ClassifierTrainerTests.MarkerTask(20, seed: 1), checkpoint).Steps, "the same run resumes");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void UnknownAcceptedChangesAreRejectedNamingTheOption()
    {
        Assert.AreEqual(nameof(ClassifierTrainerOptions.AcceptedChanges),
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ClassifierTrainerOptions { AcceptedChanges = (RunChanges)1024 }).ParamName);
        var model = GptModel.Create(Config, seed: 5, Parallelism.Sequential);
        Assert.AreEqual(nameof(LanguageModelTrainingOptions.AcceptedChanges), Assert.ThrowsExactly<ArgumentOutOfRangeException>(
            () => new LanguageModelTrainer(model, AdamW(model), Training with { AcceptedChanges = (RunChanges)1024 })).ParamName);
    }
}
