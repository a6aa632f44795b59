using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Tests.Training;

[TestClass]
public sealed class LanguageModelTrainerTests
{
    private static readonly TransformerConfig Small = new(layerCount: 2, headCount: 2, channels: 16, contextLength: 16, vocabularySize: 11);

    /// <summary>A stream with structure to learn: a repeating pattern with noise-free next tokens.</summary>
    private static int[] PatternTokens(int length) => Enumerable.Range(0, length).Select(index => (index * 7 + index / 11) % 11).ToArray();

    private static LanguageModelTrainingOptions Options(long steps, string? checkpoint = null) => new()
    {
        BatchSize = 4, SequenceLength = 12, Steps = steps, EvaluationInterval = 10, EvaluationBatches = 2, Seed = 5,
        CheckpointInterval = checkpoint is null ? 0 : 5, CheckpointPath = checkpoint,
    };

    [TestMethod]
    public void TrainingLowersTheValidationLoss()
    {
        var model = GptModel.Create(Small, seed: 1, Parallelism.Sequential);
        var trainer = new LanguageModelTrainer(model, new GradientTransformOptimizer(Optimizers.AdamW(3e-3), model.Parameters), Options(60));
        var validation = PatternTokens(400);
        var before = trainer.Evaluate(validation);
        var result = trainer.Train(PatternTokens(2000), validation);
        Assert.AreEqual(60, result.Steps);
        Assert.AreEqual(60, result.History.Count);
        Assert.IsTrue(result.FinalValidationLoss < 0.6 * before, $"validation loss {before:F3} -> {result.FinalValidationLoss:F3}");
    }

    [TestMethod]
    public void ResumedRunIsBitIdenticalToAnUninterruptedOne()
    {
        var directory = Directory.CreateTempSubdirectory("pipelines-resume-");
        try
        {
            var checkpoint = Path.Combine(directory.FullName, "run.ckpt");
            var straight = GptModel.Create(Small, seed: 2, Parallelism.Sequential);
            var straightHook = new CountingHook();
            var straightResult = new LanguageModelTrainer(straight, new GradientTransformOptimizer(Optimizers.AdamW(1e-3), straight.Parameters), Options(20), [straightHook])
                .Train(PatternTokens(600), PatternTokens(200));

            var first = GptModel.Create(Small, seed: 2, Parallelism.Sequential);
            new LanguageModelTrainer(first, new GradientTransformOptimizer(Optimizers.AdamW(1e-3), first.Parameters), Options(10, checkpoint), [new CountingHook()])
                .Train(PatternTokens(600), PatternTokens(200));
            var resumed = GptModel.Create(Small, seed: 99, Parallelism.Sequential); // different weights: all must come from the checkpoint
            var resumedHook = new CountingHook();
            var resumedResult = new LanguageModelTrainer(resumed, new GradientTransformOptimizer(Optimizers.AdamW(1e-3), resumed.Parameters), Options(20), [resumedHook])
                .Train(PatternTokens(600), PatternTokens(200), resumeFrom: checkpoint);

            CollectionAssert.AreEqual(straight.Parameters.Values.ToArray(), resumed.Parameters.Values.ToArray(), "weights differ after resuming");
            CollectionAssert.AreEqual(straightResult.History.ToArray(), resumedResult.History.ToArray(), "histories differ after resuming");
            Assert.AreEqual(straightHook.Updates, resumedHook.Updates, "hook state was not restored");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void DivergenceNamesTheStep()
    {
        var model = GptModel.Create(Small, seed: 3, Parallelism.Sequential);
        var trainer = new LanguageModelTrainer(model, new GradientTransformOptimizer(new PoisonAfter(3), model.Parameters), Options(10));
        var error = Assert.ThrowsExactly<TrainingDivergedException>(() => trainer.Train(PatternTokens(600), null));
        Assert.AreEqual(4, error.Step);
        Assert.AreEqual("loss", error.Tensor);
        StringAssert.Contains(error.Message, "step 4");
    }

    [TestMethod]
    public void CancellationWritesACheckpointAndStops()
    {
        var directory = Directory.CreateTempSubdirectory("pipelines-cancel-");
        try
        {
            var checkpoint = Path.Combine(directory.FullName, "run.ckpt");
            var model = GptModel.Create(Small, seed: 4, Parallelism.Sequential);
            using var cancellation = new CancellationTokenSource();
            var progress = new SynchronousProgress(report => { if (report.Step == 7) cancellation.Cancel(); });
            var trainer = new LanguageModelTrainer(model, new GradientTransformOptimizer(Optimizers.AdamW(1e-3), model.Parameters), Options(50, checkpoint));
            Assert.ThrowsExactly<OperationCanceledException>(() => trainer.Train(PatternTokens(600), null, progress, cancellationToken: cancellation.Token));
            var restored = GptModel.Create(Small, seed: 4, Parallelism.Sequential);
            var restoredOptimizer = new GradientTransformOptimizer(Optimizers.AdamW(1e-3), restored.Parameters);
            var run = RunRecord.ForLanguageModel(Small, Options(50, checkpoint), restoredOptimizer, PatternTokens(600));
            var (step, history) = TrainingCheckpoint.Read(checkpoint, restored.Parameters, restoredOptimizer, null, run);
            Assert.AreEqual(7, step);
            Assert.AreEqual(7, history.Count);
            CollectionAssert.AreEqual(model.Parameters.Values.ToArray(), restored.Parameters.Values.ToArray());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void BadOptionsAreRejectedWithTheOptionNamed()
    {
        var model = GptModel.Create(Small, seed: 1, Parallelism.Sequential);
        var optimizer = new GradientTransformOptimizer(Optimizers.AdamW(1e-3), model.Parameters);
        var tooLong = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LanguageModelTrainer(model, optimizer, Options(5) with { SequenceLength = 17 }));
        Assert.AreEqual("SequenceLength", tooLong.ParamName);
        var noPath = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LanguageModelTrainer(model, optimizer, Options(5) with { CheckpointInterval = 2 }));
        Assert.AreEqual("CheckpointPath", noPath.ParamName);
        Assert.ThrowsExactly<ArgumentException>(() => new LanguageModelTrainer(model, optimizer, Options(5)).Train([1, 2, 3], null));
    }

    /// <summary>Counts updates; its count is checkpointed.</summary>
    private sealed class CountingHook : ITrainingHook
    {
        public long Updates { get; private set; }

        public void AfterBackward(long step, ParameterArena arena)
        {
        }

        public void AfterUpdate(long step, ParameterArena arena, IOptimizer optimizer) => Updates++;

        public void SaveState(BinaryWriter writer) => writer.Write(Updates);

        public void LoadState(BinaryReader reader) => Updates = reader.ReadInt64();
    }

    /// <summary>A transform that writes NaN into the parameters after a number of steps, to make the loss diverge.</summary>
    private sealed class PoisonAfter(long healthySteps) : IGradientTransform
    {
        public TransformState Init(ParameterArena arena) => new EmptyState(nameof(PoisonAfter));

        public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
        {
            if (context.Step > healthySteps) updates.Fill(float.NaN);
            else updates.Clear();
        }
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<TrainingProgress> handler) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => handler(value);
    }
}
