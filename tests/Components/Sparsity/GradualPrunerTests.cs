using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Sparsity;

[TestClass]
public sealed class GradualPrunerTests
{
    [TestMethod]
    public void AverageParameterCountMatchesAHandComputedSchedule()
    {
        // weight [4,4] (16 prunable) + bias [4]; T = 8, t0 = 2, t1 = 6, dt = 2, s_f = 0.5.
        // Targets: step 2 -> 0, step 4 -> 0.5 - 0.5 * 0.5^3 = 0.4375 (7 of 16), step 6 -> 0.5 (8 of 16).
        // Count in force during update t (after the pruner acted at t - 1): 20 20 20 20 13 13 12 12.
        var arena = SparsityTestArenas.OneLayer(4, 4);
        var pruner = new GradualPruner(arena, new PruningOptions { FinalSparsity = 0.5, PruningInterval = 2, TotalSteps = 8 });
        var pruned = new List<long>();
        for (var step = 1; step <= 8; step++)
        {
            if (pruner.OnStepCompleted(step, arena)) pruned.Add(step);
        }

        CollectionAssert.AreEqual(new long[] { 4, 6 }, pruned.ToArray());
        CollectionAssert.AreEqual(new long[] { 20, 20, 20, 20, 13, 13, 12, 12 }, pruner.NonZeroCounts.ToArray());
        Assert.AreEqual(16.25, pruner.AverageParameterCount(), 1e-12);
        Assert.AreEqual(16.25, SparsityBudget.ExpectedAverageParameterCount(16, 4, SparsityBudget.MeanAppliedSparsity(pruner.Schedule)), 1e-12);
        Assert.AreEqual(12.0, pruner.AverageParameterCountOverTokens([0, 0, 0, 0, 0, 0, 5, 5]), 1e-12);
        Assert.AreEqual((20.0 + 13) / 2, pruner.AverageParameterCountOverTokens([1, 0, 0, 0, 1, 0, 0, 0]), 1e-12);

        CollectionAssert.AreEqual(new long[] { 2, 4, 6 }, pruner.Events.Select(pruning => pruning.Step).ToArray());
        Assert.AreEqual(0.4375, pruner.Events[1].TargetSparsity, 1e-15);
        Assert.AreEqual(7, pruner.Events[1].NewlyPruned);
        Assert.AreEqual(0.5, pruner.Events[2].AchievedSparsity);
        var weight = arena.ValuesOf(arena["layer.weight"]).ToArray();
        Assert.AreEqual(8, weight.Count(value => value == 0f), "pruned values are zero");
        Assert.AreEqual(0.5, pruner.Report().Single(layer => layer.Name == "layer.weight").Sparsity);
    }

    [TestMethod]
    public void AverageParameterCountOfTheCubic25To75ScheduleUses0625TimesTheFinalSparsity()
    {
        // 10,000 prunable + 100 fixed, s_f = 0.8, dt = 1: Nbar = 100 + 10,000 (1 - 0.625 * 0.8) = 5,100.
        var arena = SparsityTestArenas.OneLayer(100, 100, seed: 3);
        var pruner = new GradualPruner(arena, new PruningOptions { FinalSparsity = 0.8, PruningInterval = 1, TotalSteps = 2000 });
        for (var step = 1; step <= 2000; step++) pruner.OnStepCompleted(step, arena);
        Assert.AreEqual(5100, pruner.AverageParameterCount(), 0.002 * 10_000);
        Assert.AreEqual(2000, pruner.NonZeroCounts.Count);
        Assert.AreEqual(0.8, pruner.Mask.PrunableSparsity, 1e-12, "final sparsity reached exactly");
    }

    [TestMethod]
    public void PruningAtStepZeroNeedsACallBeforeTraining()
    {
        var arena = SparsityTestArenas.OneLayer(4, 4);
        var pruner = new GradualPruner(arena, new PruningOptions { FinalSparsity = 0.5, StartFraction = 0, Schedule = SparsityScheduleKind.OneShot, TotalSteps = 10 });
        Assert.IsTrue(pruner.OnStepCompleted(0, arena));
        Assert.AreEqual(0, pruner.CompletedSteps, "step 0 records no update");
        pruner.OnStepCompleted(1, arena);
        Assert.AreEqual(12, pruner.NonZeroCounts[0], "update 1 already ran sparse");
    }

    [TestMethod]
    public void StepsMustArriveInOrder()
    {
        var arena = SparsityTestArenas.OneLayer(4, 4);
        var pruner = new GradualPruner(arena, new PruningOptions { TotalSteps = 10 });
        pruner.OnStepCompleted(1, arena);
        Assert.AreEqual("step", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => pruner.OnStepCompleted(3, arena)).ParamName);
        Assert.AreEqual("step", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => pruner.OnStepCompleted(1, arena)).ParamName);
        Assert.AreEqual("arena", Assert.ThrowsExactly<ArgumentException>(() => pruner.OnStepCompleted(2, SparsityTestArenas.AllRoles())).ParamName);
        Assert.ThrowsExactly<InvalidOperationException>(() => new GradualPruner(arena, new PruningOptions { TotalSteps = 10 }).AverageParameterCount());
    }

    [TestMethod]
    public void ZeroOptimizerStateRunsOnlyWhenWeightsWerePruned()
    {
        var arena = SparsityTestArenas.OneLayer(4, 4);
        var pruner = new GradualPruner(arena, new PruningOptions { FinalSparsity = 0.5, PruningInterval = 2, TotalSteps = 8 });
        var calls = new List<long>();
        for (var step = 1; step <= 8; step++) pruner.OnStepCompleted(step, arena, mask => calls.Add(mask.PrunedCount));
        CollectionAssert.AreEqual(new long[] { 7, 8 }, calls.ToArray(), "step 2 (target 0) pruned nothing");
    }

    [TestMethod]
    public void ResumedPrunerContinuesIdentically()
    {
        const int totalSteps = 200;
        var options = new PruningOptions { FinalSparsity = 0.7, PruningInterval = 10, TotalSteps = totalSteps, Criterion = PruningCriterionKind.Global };
        static void Drift(ParameterArena arena, int step)
        {
            var values = arena.Values;
            for (var index = 0; index < values.Length; index++) values[index] += 0.05f * MathF.Sin(0.37f * index * step);
        }

        var straight = SparsityTestArenas.AllRoles(seed: 6);
        var straightPruner = new GradualPruner(straight, options);
        for (var step = 1; step <= totalSteps; step++)
        {
            Drift(straight, step);
            straightPruner.OnStepCompleted(step, straight);
        }

        var first = SparsityTestArenas.AllRoles(seed: 6);
        var firstPruner = new GradualPruner(first, options);
        for (var step = 1; step <= 120; step++)
        {
            Drift(first, step);
            firstPruner.OnStepCompleted(step, first);
        }

        using var checkpoint = new MemoryStream();
        firstPruner.Save(checkpoint);
        var resumed = SparsityTestArenas.AllRoles(seed: 0);
        first.Values.CopyTo(resumed.Values);
        var resumedPruner = new GradualPruner(resumed, options);
        checkpoint.Position = 0;
        resumedPruner.Load(checkpoint);
        Assert.AreEqual(120, resumedPruner.CompletedSteps);
        for (var step = 121; step <= totalSteps; step++)
        {
            Drift(resumed, step);
            resumedPruner.OnStepCompleted(step, resumed);
        }

        CollectionAssert.AreEqual(straightPruner.Mask.Buffer.ToArray(), resumedPruner.Mask.Buffer.ToArray());
        CollectionAssert.AreEqual(straightPruner.NonZeroCounts.ToArray(), resumedPruner.NonZeroCounts.ToArray());
        CollectionAssert.AreEqual(straightPruner.Events.ToArray(), resumedPruner.Events.ToArray());
        CollectionAssert.AreEqual(straight.Values.ToArray(), resumed.Values.ToArray());
        Assert.AreEqual(straightPruner.AverageParameterCount(), resumedPruner.AverageParameterCount());

        checkpoint.Position = 0;
        var wrongPrunable = new GradualPruner(new PruningMask(SparsityTestArenas.AllRoles(), slice => slice.Name == "b.weight"), options.CreateSchedule(), options.CreateCriterion());
        Assert.ThrowsExactly<InvalidDataException>(() => wrongPrunable.Load(checkpoint));
        Assert.ThrowsExactly<InvalidDataException>(() => resumedPruner.Load(new MemoryStream(checkpoint.ToArray()[..10])));
    }
}
