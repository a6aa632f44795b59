using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Sparsity;

namespace Pipelines.Components.Tests.Sparsity;

[TestClass]
public sealed class SparsityScheduleTests
{
    [TestMethod]
    public void CubicMatchesHandComputedValues()
    {
        // T = 1000, t0 = 250, t1 = 750, s_i = 0.1, s_f = 0.9.
        var schedule = new CubicSparsitySchedule(0.1, 0.9, totalSteps: 1000, pruningInterval: 1);
        Assert.AreEqual(250, schedule.StartStep);
        Assert.AreEqual(750, schedule.EndStep);
        Assert.AreEqual(0.1, schedule.TargetSparsityAt(0), 1e-15, "before t0: s_i");
        Assert.AreEqual(0.1, schedule.TargetSparsityAt(249), 1e-15, "before t0: s_i");
        Assert.AreEqual(0.1, schedule.TargetSparsityAt(250), 1e-15, "at t0: s_i");
        Assert.AreEqual(0.5625, schedule.TargetSparsityAt(375), 1e-12, "quarter: 0.9 - 0.8 * 0.75^3");
        Assert.AreEqual(0.8, schedule.TargetSparsityAt(500), 1e-12, "midpoint: 0.9 - 0.8 * 0.5^3");
        Assert.AreEqual(0.9, schedule.TargetSparsityAt(750), "at t1: exactly s_f");
        Assert.AreEqual(0.9, schedule.TargetSparsityAt(900), "after t1");
        Assert.AreEqual(0.9, schedule.TargetSparsityAt(5000), "past the end");
    }

    [TestMethod]
    public void CubicStaircaseHoldsTheTargetOfTheLatestPruningStep()
    {
        // s_f = 0.8, s_i = 0, dt = 100: pruning at 250, 350, ..., 750.
        var schedule = new CubicSparsitySchedule(0, 0.8, totalSteps: 1000, pruningInterval: 100);
        long[] pruningSteps = [250, 350, 450, 550, 650, 750];
        for (var step = 0L; step <= 1000; step++)
            Assert.AreEqual(pruningSteps.Contains(step), schedule.IsPruningStep(step), $"step {step}");

        Assert.AreEqual(0, schedule.AppliedSparsityAt(249));
        Assert.AreEqual(0, schedule.AppliedSparsityAt(349), "target at 250 is s_i = 0");
        Assert.AreEqual(0.8 - 0.8 * 0.512, schedule.AppliedSparsityAt(350), 1e-12);
        Assert.AreEqual(0.8 - 0.8 * 0.512, schedule.AppliedSparsityAt(449), 1e-12);
        Assert.AreEqual(0.8 - 0.8 * 0.216, schedule.AppliedSparsityAt(450), 1e-12);
        Assert.AreEqual(0.8 - 0.8 * 0.008, schedule.AppliedSparsityAt(749), 1e-12);
        Assert.AreEqual(0.8, schedule.AppliedSparsityAt(750));
        Assert.AreEqual(0.8, schedule.AppliedSparsityAt(1000));
    }

    [TestMethod]
    public void FinalSparsityIsReachedAtTheEndStepEvenWhenTheIntervalDoesNotDivideTheRamp()
    {
        var schedule = new CubicSparsitySchedule(0, 0.8, totalSteps: 1000, pruningInterval: 300);
        Assert.IsTrue(schedule.IsPruningStep(250));
        Assert.IsTrue(schedule.IsPruningStep(550));
        Assert.IsFalse(schedule.IsPruningStep(850));
        Assert.IsTrue(schedule.IsPruningStep(750), "t1 is always a pruning step");
        Assert.AreEqual(0.8 - 0.8 * 0.064, schedule.AppliedSparsityAt(749), 1e-12);
        Assert.AreEqual(0.8, schedule.AppliedSparsityAt(750));
    }

    [TestMethod]
    public void StartEqualToEndPrunesOnceToTheFinalSparsity()
    {
        var schedule = new CubicSparsitySchedule(0, 0.6, totalSteps: 100, pruningInterval: 10, startFraction: 0.5, endFraction: 0.5);
        Assert.AreEqual(0, schedule.AppliedSparsityAt(49));
        Assert.IsTrue(schedule.IsPruningStep(50));
        Assert.AreEqual(0.6, schedule.AppliedSparsityAt(50));
    }

    [TestMethod]
    public void LinearAndOneShotMatchHandComputedValues()
    {
        var linear = new LinearSparsitySchedule(0, 0.5, totalSteps: 100, pruningInterval: 5);
        Assert.AreEqual(0, linear.TargetSparsityAt(25));
        Assert.AreEqual(0.25, linear.TargetSparsityAt(50), 1e-15);
        Assert.AreEqual(0.5, linear.TargetSparsityAt(75));
        Assert.AreEqual(0.2, linear.AppliedSparsityAt(49), 1e-15, "latest pruning step 45");

        var oneShot = new OneShotSparsitySchedule(0.6, pruningStep: 30, totalSteps: 100);
        Assert.AreEqual(0, oneShot.AppliedSparsityAt(29));
        Assert.IsTrue(oneShot.IsPruningStep(30));
        Assert.IsFalse(oneShot.IsPruningStep(31));
        Assert.AreEqual(0.6, oneShot.AppliedSparsityAt(30));
        Assert.AreEqual(0.6, oneShot.AppliedSparsityAt(100));
    }

    [TestMethod]
    public void MeanSparsityOfTheCubic25To75ScheduleIs0625TimesTheFinal()
    {
        var schedule = new CubicSparsitySchedule(0, 0.8, totalSteps: 100_000, pruningInterval: 1);
        Assert.AreEqual(0.625 * 0.8, SparsityBudget.MeanAppliedSparsity(schedule), 1e-4);
        Assert.AreEqual(0.625 * 0.8, SparsityBudget.ContinuousMeanSparsity(SparsityScheduleKind.Cubic, 0, 0.8), 1e-15);
    }

    [TestMethod]
    [DataRow(SparsityScheduleKind.Cubic, 0.1, 0.7, 0.2, 0.9)]
    [DataRow(SparsityScheduleKind.Linear, 0.1, 0.7, 0.25, 0.75)]
    [DataRow(SparsityScheduleKind.OneShot, 0.0, 0.7, 0.4, 0.4)]
    public void ContinuousMeanSparsityMatchesTheFineStaircase(SparsityScheduleKind kind, double initial, double final, double start, double end)
    {
        var options = new PruningOptions
        {
            InitialSparsity = initial, FinalSparsity = final, StartFraction = start, EndFraction = end,
            PruningInterval = 1, TotalSteps = 50_000, Schedule = kind,
        };
        Assert.AreEqual(SparsityBudget.ContinuousMeanSparsity(kind, initial, final, start, end), SparsityBudget.MeanAppliedSparsity(options.CreateSchedule()), 1e-4);
    }

    [TestMethod]
    public void NegativeStepsThrow()
    {
        var schedule = new CubicSparsitySchedule(0, 0.5, 100, 10);
        Assert.AreEqual("step", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => schedule.TargetSparsityAt(-1)).ParamName);
        Assert.AreEqual("step", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => schedule.IsPruningStep(-1)).ParamName);
    }

    [TestMethod]
    public void BadScheduleArgumentsThrowNamingTheArgument()
    {
        Assert.AreEqual("finalSparsity", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new CubicSparsitySchedule(0, 1, 100, 10)).ParamName);
        Assert.AreEqual("initialSparsity", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LinearSparsitySchedule(0.6, 0.5, 100, 10)).ParamName);
        Assert.AreEqual("pruningInterval", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new CubicSparsitySchedule(0, 0.5, 100, 0)).ParamName);
        Assert.AreEqual("endFraction", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new CubicSparsitySchedule(0, 0.5, 100, 1, 0.5, 0.4)).ParamName);
        Assert.AreEqual("pruningStep", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new OneShotSparsitySchedule(0.5, 101, 100)).ParamName);
    }
}
