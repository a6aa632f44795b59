using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Experiments;
using Pipelines.Components.Optimization;

namespace Pipelines.Components.Tests.Optimization;

/// <summary>One suite run over every optimizer alias (optax's habit): convergence, state layout, checkpoints.</summary>
[TestClass]
public sealed class OptimizerSuiteTests
{
    public static IEnumerable<object[]> Names => OptimizerCases.Names;

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void ParabolaConverges(string name)
    {
        var item = OptimizerCases.Named(name);
        const int steps = 600;
        var problem = new TestProblems.Parabola();
        var optimizer = new GradientTransformOptimizer(item.Make(new LinearDecay(item.ParabolaRate, steps, floor: 0.01)), problem.Arena);
        var initialError = problem.MaxError();

        TestProblems.Run(optimizer, problem.Arena, () => problem.Evaluate(), steps);

        Assert.IsGreaterThan(0.5, initialError, "the start is far from the optimum");
        Assert.IsLessThan(0.02, problem.MaxError(), $"{name}: max |theta - target| after {steps} steps");
    }

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void RosenbrockDecreasesSubstantially(string name)
    {
        var item = OptimizerCases.Named(name);
        const int steps = 2000;
        var arena = TestProblems.PointArena(-1.5f, 2f);
        var initial = TestProblems.Rosenbrock(arena);
        var optimizer = new GradientTransformOptimizer(item.Make(new LinearDecay(item.RosenbrockRate, steps, floor: 1)), arena);

        var final = TestProblems.Run(optimizer, arena, () => TestProblems.Rosenbrock(arena), steps);

        Assert.AreEqual(12.5, initial, 1e-9);
        Assert.IsLessThan(initial / 100, final, $"{name}: Rosenbrock after {steps} steps from (-1.5, 2)");
    }

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void NarrowingValleyLossDecreases(string name)
    {
        var item = OptimizerCases.Named(name);
        var valley = new NarrowingValley(sharpness: 1);
        var arena = TestProblems.PointArena(1e-4f, -2e-4f);
        var initial = valley.Loss(arena.Values[0], arena.Values[1]);
        var optimizer = new GradientTransformOptimizer(item.Make(new LinearDecay(item.ValleyRate, 500, floor: 1)), arena);

        var final = TestProblems.Run(optimizer, arena, () =>
        {
            var (first, second) = valley.Gradient(arena.Values[0], arena.Values[1]);
            arena.Gradients[0] = (float)first;
            arena.Gradients[1] = (float)second;
            return valley.Loss(arena.Values[0], arena.Values[1]);
        }, 500);

        Assert.IsLessThan(initial - 0.05, final, $"{name}: valley loss after 500 steps (start {initial:G3})");
    }

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void StateBuffersAreLaidOutLikeTheArena(string name)
    {
        var item = OptimizerCases.Named(name);
        var problem = new TestProblems.Parabola();
        var optimizer = new GradientTransformOptimizer(item.Make(new LinearDecay(0.01, 10)), problem.Arena);

        var buffers = optimizer.State.SelfAndDescendants().OfType<IParameterBufferState>().SelectMany(state => state.Buffers).ToArray();

        Assert.HasCount(item.StateBuffers, buffers);
        foreach (var buffer in buffers) Assert.HasCount(problem.Arena.BufferLength, buffer);
        Assert.AreEqual(0L, optimizer.StepCount);
        Assert.AreEqual(0.01, optimizer.CurrentLearningRate, 1e-15);
    }

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void CheckpointRoundTripContinuesBitIdentically(string name)
    {
        var item = OptimizerCases.Named(name);
        var schedule = new LinearDecay(item.ParabolaRate, 20);

        // 20 steps straight.
        var straight = new TestProblems.Parabola();
        var straightOptimizer = new GradientTransformOptimizer(item.Make(schedule), straight.Arena);
        RunNoisy(straightOptimizer, straight, 0, 20);

        // 10 steps, checkpoint (optimizer state + values), then 10 more in a fresh arena and optimizer.
        var first = new TestProblems.Parabola();
        var firstOptimizer = new GradientTransformOptimizer(item.Make(schedule), first.Arena);
        RunNoisy(firstOptimizer, first, 0, 10);
        var checkpoint = new MemoryStream();
        using (var writer = new BinaryWriter(checkpoint, System.Text.Encoding.UTF8, leaveOpen: true)) firstOptimizer.SaveState(writer);
        var resumed = new TestProblems.Parabola();
        first.Arena.Values.CopyTo(resumed.Arena.Values);
        var resumedOptimizer = new GradientTransformOptimizer(item.Make(schedule), resumed.Arena);
        checkpoint.Position = 0;
        using (var reader = new BinaryReader(checkpoint)) resumedOptimizer.LoadState(reader);
        Assert.AreEqual(10L, resumedOptimizer.StepCount);
        Assert.AreEqual(schedule.ValueAt(10), resumedOptimizer.CurrentLearningRate);
        RunNoisy(resumedOptimizer, resumed, 10, 10);

        CollectionAssert.AreEqual(TestProblems.Bits(straight.Arena), TestProblems.Bits(resumed.Arena), $"{name}: values after 10 + 10 steps");
        CollectionAssert.AreEqual(Saved(straightOptimizer), Saved(resumedOptimizer), $"{name}: optimizer state after 10 + 10 steps");
    }

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void StepsAreDeterministic(string name)
    {
        var item = OptimizerCases.Named(name);
        var left = new TestProblems.Parabola();
        var right = new TestProblems.Parabola();
        RunNoisy(new GradientTransformOptimizer(item.Make(new LinearDecay(0.05, 15)), left.Arena), left, 0, 15);
        RunNoisy(new GradientTransformOptimizer(item.Make(new LinearDecay(0.05, 15)), right.Arena), right, 0, 15);

        CollectionAssert.AreEqual(TestProblems.Bits(left.Arena), TestProblems.Bits(right.Arena));
        Assert.IsTrue(left.Arena.Values.ToArray().All(float.IsFinite));
    }

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void StepsAllocateNothingInSteadyState(string name)
    {
        var item = OptimizerCases.Named(name);
        var problem = new TestProblems.Parabola();
        var transform = new Chain(item.Make(new LinearDecay(0.01, 100)), new Freeze(slice => slice.Name == "frozen"));
        var optimizer = new GradientTransformOptimizer(transform, problem.Arena);
        problem.Evaluate();
        for (var step = 0; step < 3; step++) optimizer.Step(problem.Arena);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var step = 0; step < 10; step++) optimizer.Step(problem.Arena);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.AreEqual(0L, allocated, $"{name}: bytes allocated by 10 steps");
    }

    /// <summary>Noisy gradients whose noise depends only on the step index, so a resumed run sees the same ones.</summary>
    private static void RunNoisy(GradientTransformOptimizer optimizer, TestProblems.Parabola problem, int firstStep, int steps)
    {
        for (var step = firstStep; step < firstStep + steps; step++)
        {
            problem.Arena.ZeroGradients();
            problem.Evaluate(new Random(1000 + step), noise: 0.5);
            optimizer.Step(problem.Arena);
        }
    }

    private static byte[] Saved(GradientTransformOptimizer optimizer)
    {
        var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream)) optimizer.SaveState(writer);
        return stream.ToArray();
    }
}
