using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Tests.Training;

/// <summary>The one training loop on a task small enough to follow by hand: fit w to a target per step.</summary>
[TestClass]
public sealed class TrainingLoopTests
{
    [TestMethod]
    public void LoadsEachStepsBatchAndValidatesOnScheduleAndAtTheEnd()
    {
        var task = new ParabolaTask();
        var loop = new TrainingLoop(task, new ArenaTrainingState(task.Parameters, new GradientTransformOptimizer(Optimizers.Sgd(0.1), task.Parameters)), new TrainingLoopOptions(7, 3, 0, null, RunChanges.None));
        var result = loop.Run(Record);
        CollectionAssert.AreEqual(new long[] { 0, 1, 2, 3, 4, 5, 6 }, task.LoadedSteps);
        CollectionAssert.AreEqual(new long[] { 3, 6, 7 }, result.History.Where(record => record.ValidationLoss.HasValue).Select(record => record.Step).ToArray());
        Assert.AreEqual(7, result.StepsThisRun);
        Assert.IsLessThan(result.History[0].TrainingLoss, result.History[^1].TrainingLoss, "w moves towards the target");
        Assert.AreEqual(result.History[^1].ValidationLoss, result.FinalValidationLoss);
    }

    [TestMethod]
    public void AnInfiniteLossNamesItsStepBeforeAnyBackward()
    {
        var task = new ParabolaTask { InfiniteAtStep = 2 };
        var loop = new TrainingLoop(task, new ArenaTrainingState(task.Parameters, new GradientTransformOptimizer(Optimizers.Sgd(0.1), task.Parameters)), new TrainingLoopOptions(5, 0, 0, null, RunChanges.None));
        var error = Assert.ThrowsExactly<TrainingDivergedException>(() => loop.Run(Record));
        Assert.AreEqual(2, error.Step);
        Assert.AreEqual(2, task.Backwards, "steps 0 and 1 only");
    }

    [TestMethod]
    public void ACheckpointIntervalWithoutAPathIsRefused()
    {
        var task = new ParabolaTask();
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(
            () => new TrainingLoop(task, new ArenaTrainingState(task.Parameters, new GradientTransformOptimizer(Optimizers.Sgd(0.1), task.Parameters)), new TrainingLoopOptions(5, 0, 2, null, RunChanges.None)));
        StringAssert.Contains(error.Message, "checkpoint path");
    }

    private static RunRecord Record => new([new RunRecordEntry("model.Kind", RunChanges.ModelConfiguration, "parabola")]);

    /// <summary>Loss (w − t)² with target t = 3 + step mod 2; validation measures (w − 3.5)².</summary>
    private sealed class ParabolaTask : ITrainingTask
    {
        private readonly ParameterSlice weight;
        private long step;

        public ParabolaTask()
        {
            var builder = new ParameterArenaBuilder();
            weight = builder.Add("w", ParameterRole.LinearBias, 1);
            Parameters = builder.Build();
        }

        public ParameterArena Parameters { get; }

        public List<long> LoadedSteps { get; } = [];

        public long? InfiniteAtStep { get; init; }

        public int Backwards { get; private set; }

        public bool HasValidation => true;

        private double Target => 3 + step % 2;

        private float Weight => Parameters.ValuesOf(weight)[0];

        public long LoadBatch(long step)
        {
            this.step = step;
            LoadedSteps.Add(step);
            return 1;
        }

        public double Forward() => step == InfiniteAtStep ? double.PositiveInfinity : Math.Pow(Weight - Target, 2);

        public void Backward()
        {
            Backwards++;
            Parameters.GradientsOf(weight)[0] += (float)(2 * (Weight - Target));
        }

        public double Epochs(long steps) => steps;

        public double Validate() => Math.Pow(Weight - 3.5, 2);
    }
}
