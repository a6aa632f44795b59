using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Tests.Sparsity;

[TestClass]
public sealed class PruningTrainingHookTests
{
    private const long Steps = 40;
    private static readonly TransformerConfig Tiny = new(layerCount: 2, headCount: 2, channels: 16, contextLength: 16, vocabularySize: 11);

    private static int[] PatternTokens(int length) => Enumerable.Range(0, length).Select(index => (index * 7 + index / 11) % 11).ToArray();

    private static PruningOptions Plan(double finalSparsity = 0.7) =>
        new() { FinalSparsity = finalSparsity, PruningInterval = 4, TotalSteps = Steps };

    private static LanguageModelTrainingOptions Training(string? checkpoint = null, int checkpointInterval = 0) => new()
    {
        BatchSize = 3, SequenceLength = 12, Steps = Steps, EvaluationInterval = 10, EvaluationBatches = 2, Seed = 9,
        CheckpointInterval = checkpointInterval, CheckpointPath = checkpoint,
    };

    /// <summary>AdamW with momentum, weight decay on matrices, and no ApplyMask link: only the hook protects the pruned weights.</summary>
    private static GradientTransformOptimizer AdamW(GptModel model) =>
        new(Optimizers.AdamW(3e-3, beta1: 0.9, beta2: 0.99, weightDecay: 0.1), model.Parameters);

    [TestMethod]
    public void PrunedWeightsAndTheirAdamMomentsStayExactlyZeroAtEveryStep()
    {
        var model = GptModel.Create(Tiny, seed: 3, Parallelism.Sequential);
        var optimizer = AdamW(model);
        var hook = new PruningTrainingHook(model.Parameters, Plan());
        // The watcher runs before the pruning hook, so it sees the optimizer's update before the values are masked again.
        var watcher = new Watcher(hook.Mask);
        var initial = model.Parameters.Values.ToArray();
        new LanguageModelTrainer(model, optimizer, Training(), [watcher, hook]).Train(PatternTokens(800), PatternTokens(200));

        Assert.AreEqual(Steps, watcher.Updates);
        Assert.AreEqual(0, watcher.MovedPrunedValues, "an optimizer update moved a pruned weight");
        Assert.AreEqual(0, watcher.LivePrunedGradients, "a pruned weight's gradient reached the optimizer");
        Assert.AreEqual(0, watcher.LivePrunedMoments, "an Adam moment of a pruned weight is not zero");
        Assert.IsTrue(watcher.PrunedPositionsChecked > 10_000, "the checks must have covered pruned weights");

        var adam = optimizer.State.Find<ScaleByAdamState>()!;
        var mask = hook.Mask.Buffer.ToArray();
        var values = model.Parameters.Values.ToArray();
        var prunedPositions = Enumerable.Range(0, mask.Length).Where(position => mask[position] == 0f).ToArray();
        Assert.IsTrue(prunedPositions.All(position => values[position] == 0f && adam.FirstMoment[position] == 0f && adam.SecondMoment[position] == 0f));
        Assert.AreEqual(2, hook.LastMaskedStateBuffers, "Adam's two moment buffers are masked");
        Assert.AreEqual(0.7, hook.PrunableSparsity, 1e-3);
        Assert.IsTrue(Enumerable.Range(0, mask.Length).Count(position => mask[position] != 0f && values[position] != initial[position]) > 1000,
            "kept weights still train");
    }

    [TestMethod]
    public void SparsityNbarAndSnapshotsFollowTheSchedule()
    {
        var model = GptModel.Create(Tiny, seed: 4, Parallelism.Sequential);
        var hook = new PruningTrainingHook(model.Parameters, Plan());
        new LanguageModelTrainer(model, AdamW(model), Training(), [hook]).Train(PatternTokens(800), null);

        Assert.AreEqual(Steps, hook.CompletedSteps);
        var layers = hook.LayerSparsities();
        foreach (var layer in layers)
        {
            if (layer.IsPrunable) Assert.AreEqual(0.7, layer.Sparsity, 0.01, layer.Name);
            else Assert.AreEqual(0.0, layer.Sparsity, layer.Name);
        }

        Assert.IsTrue(layers.Count(layer => layer.IsPrunable) == 4 * Tiny.LayerCount, "qkv, proj, fc and out of every block");
        var expected = SparsityBudget.ExpectedAverageParameterCount(hook.Mask.PrunableCount, hook.Mask.ParameterCount - hook.Mask.PrunableCount,
            SparsityBudget.MeanAppliedSparsity(hook.Pruner.Schedule));
        Assert.AreEqual(expected, hook.AverageParameterCount(), 0.5 * 4 * Tiny.LayerCount, "Nbar within rounding of the per-layer counts");
        Assert.IsTrue(hook.AverageParameterCount() < hook.Mask.ParameterCount);

        // Steps 10 (t0), 14, 18, ..., 26 and 30 (t1): the first prunes nothing (s_i = 0), so no snapshot.
        CollectionAssert.AreEqual(new long[] { 10, 14, 18, 22, 26, 30 }, hook.Pruner.Events.Select(pruning => pruning.Step).ToArray());
        CollectionAssert.AreEqual(new long[] { 14, 18, 22, 26, 30 }, hook.LayerSnapshots.Select(snapshot => snapshot.Step).ToArray());
        Assert.AreEqual(0.0, hook.PrunableSparsityDuring(14), "update 14 ran before the pruning after it");
        Assert.AreEqual(hook.Pruner.Events[1].AchievedSparsity, hook.PrunableSparsityDuring(15), 1e-15);
        Assert.AreEqual(0.7, hook.PrunableSparsityDuring(Steps), 1e-3);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => hook.PrunableSparsityDuring(Steps + 1));
        var firstQkv = hook.LayerSnapshots[0].Layers.Single(layer => layer.Name == "blocks.0.qkv.weight");
        Assert.IsTrue(firstQkv.Sparsity > 0 && firstQkv.Sparsity < 0.7, $"first snapshot is partway: {firstQkv.Sparsity}");
    }

    [TestMethod]
    public void AScheduleStartingAtZeroPrunesBeforeTheFirstUpdate()
    {
        var model = GptModel.Create(Tiny, seed: 5, Parallelism.Sequential);
        var hook = new PruningTrainingHook(model.Parameters, Plan(0.5) with { StartFraction = 0, Schedule = SparsityScheduleKind.OneShot });
        new LanguageModelTrainer(model, AdamW(model), Training() with { Steps = 3 }, [hook]).Train(PatternTokens(400), null);
        Assert.AreEqual(0.5, hook.PrunableSparsityDuring(1), 1e-3, "update 1 already runs sparse");
        Assert.AreEqual(0L, hook.LayerSnapshots.Single().Step);
    }

    [TestMethod]
    public void ResumingMidPruningIsBitIdentical()
    {
        var directory = Directory.CreateTempSubdirectory("pipelines-pruning-resume-");
        try
        {
            var checkpoint = Path.Combine(directory.FullName, "run.ckpt");
            var straight = GptModel.Create(Tiny, seed: 6, Parallelism.Sequential);
            var straightOptimizer = AdamW(straight);
            var straightHook = new PruningTrainingHook(straight.Parameters, Plan());
            var straightResult = new LanguageModelTrainer(straight, straightOptimizer, Training(), [straightHook]).Train(PatternTokens(800), PatternTokens(200));

            // Checkpoints every 9 steps; the run stops at 18, between pruning steps 14 and 22 (three of six done).
            var first = GptModel.Create(Tiny, seed: 6, Parallelism.Sequential);
            new LanguageModelTrainer(first, AdamW(first), Training(checkpoint, 9) with { Steps = 20 }, [new PruningTrainingHook(first.Parameters, Plan())])
                .Train(PatternTokens(800), PatternTokens(200));
            var resumed = GptModel.Create(Tiny, seed: 77, Parallelism.Sequential);
            var resumedOptimizer = AdamW(resumed);
            var resumedHook = new PruningTrainingHook(resumed.Parameters, Plan());
            var resumedResult = new LanguageModelTrainer(resumed, resumedOptimizer, Training(), [resumedHook])
                .Train(PatternTokens(800), PatternTokens(200), resumeFrom: checkpoint);

            CollectionAssert.AreEqual(straight.Parameters.Values.ToArray(), resumed.Parameters.Values.ToArray(), "weights");
            CollectionAssert.AreEqual(straightHook.Mask.Buffer.ToArray(), resumedHook.Mask.Buffer.ToArray(), "mask");
            CollectionAssert.AreEqual(straightHook.Pruner.NonZeroCounts.ToArray(), resumedHook.Pruner.NonZeroCounts.ToArray(), "non-zero history");
            CollectionAssert.AreEqual(straightHook.Pruner.Events.ToArray(), resumedHook.Pruner.Events.ToArray(), "pruning events");
            CollectionAssert.AreEqual(straightHook.LayerSnapshots.Select(Describe).ToArray(), resumedHook.LayerSnapshots.Select(Describe).ToArray(), "snapshots");
            CollectionAssert.AreEqual(straightResult.History.ToArray(), resumedResult.History.ToArray(), "metrics");
            var (straightAdam, resumedAdam) = (straightOptimizer.State.Find<ScaleByAdamState>()!, resumedOptimizer.State.Find<ScaleByAdamState>()!);
            CollectionAssert.AreEqual(straightAdam.FirstMoment, resumedAdam.FirstMoment, "first moment");
            CollectionAssert.AreEqual(straightAdam.SecondMoment, resumedAdam.SecondMoment, "second moment");
            Assert.AreEqual(straightHook.AverageParameterCount(), resumedHook.AverageParameterCount());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void FocusStateIsMaskedToo()
    {
        var model = GptModel.Create(Tiny, seed: 7, Parallelism.Sequential);
        var optimizer = new GradientTransformOptimizer(Optimizers.Focus(1e-3, gamma: 0.2, weightDecay: 0.1), model.Parameters);
        var hook = new PruningTrainingHook(model.Parameters, Plan());
        new LanguageModelTrainer(model, optimizer, Training() with { Steps = 16 }, [hook]).Train(PatternTokens(400), null);
        var focus = optimizer.State.Find<ScaleByFocusState>()!;
        var mask = hook.Mask.Buffer.ToArray();
        var values = model.Parameters.Values.ToArray();
        var pruned = Enumerable.Range(0, mask.Length).Where(position => mask[position] == 0f).ToArray();
        Assert.IsTrue(pruned.Length > 0);
        Assert.IsTrue(pruned.All(position => focus.Momentum[position] == 0f && focus.ParameterAverage[position] == 0f && values[position] == 0f));
        Assert.AreEqual(2, hook.LastMaskedStateBuffers);
    }

    [TestMethod]
    public void AnOptimizerThatHidesItsStateIsRefusedAtThePruningStep()
    {
        var model = GptModel.Create(Tiny, seed: 8, Parallelism.Sequential);
        var hook = new PruningTrainingHook(model.Parameters, Plan() with { StartFraction = 0.05, EndFraction = 0.05, Schedule = SparsityScheduleKind.OneShot });
        var trainer = new LanguageModelTrainer(model, new OpaqueOptimizer(), Training(), [hook]);
        var error = Assert.ThrowsExactly<ArgumentException>(() => trainer.Train(PatternTokens(400), null));
        Assert.AreEqual("optimizer", error.ParamName);
        Assert.AreEqual(2, hook.CompletedSteps, "refused at the pruning step, after update 2");
    }

    [TestMethod]
    public void ForeignOrTruncatedStateIsRejected()
    {
        var model = GptModel.Create(Tiny, seed: 9, Parallelism.Sequential);
        var hook = new PruningTrainingHook(model.Parameters, Plan());
        using var foreign = new MemoryStream();
        using (var writer = new BinaryWriter(foreign, System.Text.Encoding.UTF8, leaveOpen: true)) writer.Write("SOMETHING-ELSE");
        foreign.Position = 0;
        Assert.ThrowsExactly<InvalidDataException>(() => hook.LoadState(new BinaryReader(foreign)));

        using var saved = new MemoryStream();
        using (var writer = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true)) hook.SaveState(writer);
        var truncated = new MemoryStream(saved.ToArray()[..^3]);
        Assert.ThrowsExactly<InvalidDataException>(() => hook.LoadState(new BinaryReader(truncated)));
        Assert.ThrowsExactly<ArgumentNullException>(() => new PruningTrainingHook((GradualPruner)null!));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new PruningTrainingHook(model.Parameters, Plan(1.0)));
    }

    private static string Describe(LayerSparsitySnapshot snapshot) => $"{snapshot.Step}:{string.Join(",", snapshot.Layers.Select(layer => layer.NonZeroCount))}";

    /// <summary>Checks, before the pruning hook acts, that the step left every already-pruned weight, gradient and moment at zero.</summary>
    private sealed class Watcher(PruningMask mask) : ITrainingHook
    {
        public long Updates { get; private set; }

        public int MovedPrunedValues { get; private set; }

        public int LivePrunedGradients { get; private set; }

        public int LivePrunedMoments { get; private set; }

        public long PrunedPositionsChecked { get; private set; }

        public void AfterBackward(long step, ParameterArena arena)
        {
        }

        public void AfterUpdate(long step, ParameterArena arena, IOptimizer optimizer)
        {
            Updates++;
            var adam = ((GradientTransformOptimizer)optimizer).State.Find<ScaleByAdamState>()!;
            var buffer = mask.Buffer;
            var values = arena.Values;
            var gradients = arena.Gradients;
            for (var position = 0; position < buffer.Length; position++)
            {
                if (buffer[position] != 0f) continue;
                PrunedPositionsChecked++;
                if (values[position] != 0f) MovedPrunedValues++;
                if (gradients[position] != 0f) LivePrunedGradients++;
                if (adam.FirstMoment[position] != 0f || adam.SecondMoment[position] != 0f) LivePrunedMoments++;
            }
        }

        public void SaveState(BinaryWriter writer)
        {
        }

        public void LoadState(BinaryReader reader)
        {
        }
    }

    /// <summary>Plain SGD that keeps its (non-existent) state to itself.</summary>
    private sealed class OpaqueOptimizer : IOptimizer
    {
        public long StepCount { get; private set; }

        public double CurrentLearningRate => 1e-3;

        public void Step(ParameterArena arena)
        {
            var values = arena.Values;
            var gradients = arena.Gradients;
            for (var index = 0; index < values.Length; index++) values[index] -= 1e-3f * gradients[index];
            StepCount++;
        }

        public void SaveState(BinaryWriter writer)
        {
        }

        public void LoadState(BinaryReader reader)
        {
        }
    }
}
