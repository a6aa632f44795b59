using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Tests.Training;

/// <summary>
/// The rates a run actually applies, read from the trainer's history and from the updates themselves, not from the
/// schedule at some step: a run of S steps executes steps 0..S-1, so its first update must not run at 0 and its last
/// must run at the floor.
/// </summary>
[TestClass]
public sealed class ScheduleRatesInTrainingTests
{
    private const double Peak = 1e-2;
    private static readonly TransformerConfig Small = new(layerCount: 1, headCount: 2, channels: 8, contextLength: 8, vocabularySize: 11);

    private static int[] Tokens(int length) => Enumerable.Range(0, length).Select(index => (index * 7 + index / 11) % 11).ToArray();

    /// <summary>Trains a tiny GPT for <paramref name="steps"/> steps; returns the history's rates and the rates the updates applied.</summary>
    private static (double[] History, double[] Applied) Train(ISchedule schedule, long steps)
    {
        var model = GptModel.Create(Small, seed: 2, Parallelism.Sequential);
        var optimizer = new GradientTransformOptimizer(Optimizers.AdamW(schedule), model.Parameters);
        var recorder = new AppliedRateRecorder();
        var options = new LanguageModelTrainingOptions { BatchSize = 2, SequenceLength = 8, Steps = steps, EvaluationInterval = 0, Seed = 3 };
        var result = new LanguageModelTrainer(model, optimizer, options, [recorder]).Train(Tokens(300), null);
        return ([.. result.History.Select(row => row.LearningRate)], [.. recorder.Rates]);
    }

    [TestMethod]
    public void AWsdRunStartsAtPeakOverWarmupAndEndsAtTheFloor()
    {
        // 12 steps: warm-up 4 (steps 0..3), stable 4..7, decay of 4 steps (8..11) to m = 0.1.
        var schedule = new WarmupStableDecaySchedule(Peak, 12, DecayLength.OfSteps(4), warmupSteps: 4, minRatio: 0.1);

        var (history, applied) = Train(schedule, 12);

        CollectionAssert.AreEqual(history, applied, "the history records the rate each update applied");
        double[] expected = [.. new[] { 0.25, 0.5, 0.75, 1, 1, 1, 1, 1, 0.775, 0.55, 0.325, 0.1 }.Select(factor => factor * Peak)];
        for (var step = 0; step < expected.Length; step++)
            Assert.AreEqual(expected[step], applied[step], 1e-15, $"step {step}");
        Assert.AreEqual(Peak / 4, applied[0], "the first update runs at peak / W, not 0");
        Assert.AreEqual(0.1 * Peak, applied[^1], 1e-18, "the last update runs at the floor");
    }

    [TestMethod]
    [DataRow(DecayShape.Linear)]
    [DataRow(DecayShape.Cosine)]
    [DataRow(DecayShape.OneMinusSqrt)]
    [DataRow(DecayShape.Exponential)]
    [DataRow(DecayShape.Inverse)]
    public void EveryDecayShapeRunsTheLastUpdateAtTheFloor(DecayShape shape)
    {
        var schedule = new WarmupStableDecaySchedule(Peak, 10, DecayLength.OfFraction(0.5), warmupSteps: 2, decayShape: shape, minRatio: 0.05,
            halfLifeSteps: shape == DecayShape.Exponential ? 1 : 0);

        var (_, applied) = Train(schedule, 10);

        Assert.AreEqual(Peak / 2, applied[0], 1e-18, "the first update");
        Assert.AreEqual(0.05 * Peak, applied[^1], 1e-15, "the last update");
        Assert.IsTrue(applied[5..9].All(rate => rate > 0.05 * Peak && rate < Peak), string.Join(", ", applied));
    }

    [TestMethod]
    public void ACosineRunEndsAtTheFloor()
    {
        var (_, applied) = Train(new CosineSchedule(Peak, totalSteps: 8, warmupSteps: 2, minRatio: 0.2), 8);

        Assert.AreEqual(Peak / 2, applied[0], 1e-18);
        Assert.AreEqual(Peak, applied[1], 1e-18);
        Assert.AreEqual(0.2 * Peak, applied[^1], 1e-15);
    }

    [TestMethod]
    public void AWsdsRunDecaysToTheFloorBeforeEachBudgetAndResumesAtThePeak()
    {
        // Budgets 6 and 12, decays of 2 steps: steps 4, 5 and 10, 11 decay; 5 and 11 run at the floor.
        var plan = new WsdsPlan(Peak, [6, 12], decayFraction: 1.0 / 3, minRatio: 0.1);

        var (_, applied) = Train(plan, 12);

        double[] expected = [.. new[] { 1, 1, 1, 1, 0.55, 0.1, 1, 1, 1, 1, 0.55, 0.1 }.Select(factor => factor * Peak)];
        for (var step = 0; step < expected.Length; step++)
            Assert.AreEqual(expected[step], applied[step], 1e-15, $"step {step}");
    }

    [TestMethod]
    public void SgdMovesAParameterByExactlyTheRatesOfTheRun()
    {
        // With gradient 1 and plain SGD, each update moves the value by -lr: the rates read back from the weights.
        var builder = new ParameterArenaBuilder();
        builder.Add("bias", ParameterRole.LinearBias, 1);
        var arena = builder.Build();
        var schedule = new WarmupStableDecaySchedule(1, 6, DecayLength.OfSteps(2), warmupSteps: 2, minRatio: 0.5);
        var optimizer = new GradientTransformOptimizer(Optimizers.Sgd(new SgdOptions(schedule)), arena);

        var moves = new List<double>();
        for (var step = 0; step < 6; step++)
        {
            var before = arena.Values[0];
            arena.Gradients[0] = 1;
            optimizer.Step(arena);
            moves.Add(before - arena.Values[0]);
        }

        CollectionAssert.AreEqual(new[] { 0.5, 1, 1, 1, 0.75, 0.5 }, moves.ToArray());
    }

    /// <summary>Reads, after every update, the rate that <see cref="ScaleByLearningRate"/> applied.</summary>
    private sealed class AppliedRateRecorder : ITrainingHook
    {
        public List<double> Rates { get; } = [];

        public void AfterBackward(long step, ParameterArena arena)
        {
        }

        public void AfterUpdate(long step, ParameterArena arena, IOptimizer optimizer) =>
            Rates.Add(((GradientTransformOptimizer)optimizer).State.Find<ScaleByLearningRateState>()!.LastLearningRate);

        public void SaveState(BinaryWriter writer)
        {
        }

        public void LoadState(BinaryReader reader)
        {
        }
    }
}
