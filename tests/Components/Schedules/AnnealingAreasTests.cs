using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Schedules;

namespace Pipelines.Components.Tests.Schedules;

[TestClass]
public sealed class AnnealingAreasTests
{
    private const double Peak = 2e-4;
    private static readonly AnnealingAreaOptions PaperOptions = new(warmupSteps: 500, momentumDecay: 0.999);

    // The spec's check values (arXiv 2408.11029): peak 2e-4, 20k steps, 500 warm-up counted at the peak, lambda 0.999.
    // They are reproduced when steps run from 0 and S1(s) sums the s + 1 rates of steps 0..s, and when the cosine
    // spans the post-warm-up steps 500..20000 (at the peak at step 500, reaching 0 at step 20000). Our schedules run
    // the warm-up's last step at the peak and a run's last step at the floor, so that cosine is a run of 20001 steps
    // whose warm-up is 501 steps long.
    [TestMethod]
    public void ConstantScheduleMatchesTheSpecValues()
    {
        var areas = AnnealingAreas.Compute(new LinearWarmupSchedule(Peak, 500), [10_000, 20_000], PaperOptions);

        Assert.AreEqual(2.000200, areas.S1[0], 5e-7);
        Assert.AreEqual(4.000200, areas.S1[1], 5e-7);
        Assert.AreEqual(0.0, areas.S2[0]);
        Assert.AreEqual(0.0, areas.S2[1]);
    }

    [TestMethod]
    public void CosineScheduleMatchesTheSpecValues()
    {
        var cosine = new CosineSchedule(Peak, totalSteps: 20_001, warmupSteps: 501);

        // Its steps 0..500 count at the peak (step 500 already runs there), as the paper's 500 warm-up steps and its step 500.
        var areas = AnnealingAreas.Compute(cosine, [10_000, 20_000], new AnnealingAreaOptions(warmupSteps: 501));

        Assert.AreEqual(1.670353, areas.S1[0], 5e-7);
        Assert.AreEqual(0.080400, areas.S2[0], 5e-7);
        Assert.AreEqual(2.050100, areas.S1[1], 5e-7);
        Assert.AreEqual(0.197474, areas.S2[1], 5e-7);
    }

    [TestMethod]
    public void WarmupCountedAtPeakEqualsAScheduleWithoutWarmup()
    {
        var withWarmup = AnnealingAreas.Compute(new CosineSchedule(1, 300, warmupSteps: 40), [0, 39, 40, 41, 300, 301], new AnnealingAreaOptions(40));
        var plateau = Schedule.Join([new ConstantSchedule(1), new CosineSchedule(1, 260)], [40]);
        var reference = AnnealingAreas.Compute(plateau, [0, 39, 40, 41, 300, 301], new AnnealingAreaOptions(0));

        CollectionAssert.AreEqual(reference.S1.ToArray(), withWarmup.S1.ToArray());
        CollectionAssert.AreEqual(reference.S2.ToArray(), withWarmup.S2.ToArray());
    }

    [TestMethod]
    public void WarmupNotCountedAtPeakUsesTheScheduleRates()
    {
        // Linear warm-up .25, .5, .75, 1 (the rates steps 0..3 run at), then 1: S1(5) = .25 + .5 + .75 + 1 + 1 + 1 = 4.5.
        var areas = AnnealingAreas.Compute(new LinearWarmupSchedule(1, 4), [5], new AnnealingAreaOptions(4, countWarmupAtPeak: false));

        Assert.AreEqual(4.5, areas.S1[0], 1e-15);
        // m_i = lambda m_(i-1) - 0.25 while rising, then decays: S2 is negative (a rising rate "un-anneals").
        Assert.IsLessThan(0.0, areas.S2[0]);
    }

    [TestMethod]
    public void HandComputedMomentumArea()
    {
        // Rates 1, 0.5, 0.5, 0 (joined constants); lambda 0.5.
        // m: 0, 0.5, 0.25, 0.125 + 0.5 = 0.625; S2: 0, 0.5, 0.75, 1.375. S1: 1, 1.5, 2, 2.
        var schedule = Schedule.Join([new ConstantSchedule(1), new ConstantSchedule(0.5), new ConstantSchedule(0)], [1, 3]);

        var areas = AnnealingAreas.Compute(schedule, [3, 0, 1, 2], new AnnealingAreaOptions(momentumDecay: 0.5));

        CollectionAssert.AreEqual(new long[] { 3, 0, 1, 2 }, areas.Steps.ToArray());
        CollectionAssert.AreEqual(new[] { 2.0, 1.0, 1.5, 2.0 }, areas.S1.ToArray());
        CollectionAssert.AreEqual(new[] { 1.375, 0.0, 0.5, 0.75 }, areas.S2.ToArray());
    }

    [TestMethod]
    public void ExplicitPeakOverridesTheScheduleRate()
    {
        var areas = AnnealingAreas.Compute(new ConstantSchedule(1), [1], new AnnealingAreaOptions(warmupSteps: 1, peakLearningRate: 3));

        Assert.AreEqual(4.0, areas.S1[0]);
        Assert.AreEqual(2.0, areas.S2[0]); // m_1 = 3 - 1
    }

    [TestMethod]
    public void EmptyStepsGiveEmptyAreas() =>
        Assert.AreEqual(0, AnnealingAreas.Compute(new ConstantSchedule(1), []).S1.Count);

    [TestMethod]
    public void BadInputIsRejected()
    {
        var negativeStep = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => AnnealingAreas.Compute(new ConstantSchedule(1), [3, -2]));
        Assert.AreEqual("steps", negativeStep.ParamName);
        Assert.AreEqual("warmupSteps", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new AnnealingAreaOptions(-1)).ParamName);
        foreach (var lambda in new[] { -0.1, 1.0, double.NaN })
            Assert.AreEqual("momentumDecay", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new AnnealingAreaOptions(momentumDecay: lambda)).ParamName);
        Assert.AreEqual("peakLearningRate", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new AnnealingAreaOptions(peakLearningRate: double.NaN)).ParamName);
        Assert.ThrowsExactly<InvalidOperationException>(() => AnnealingAreas.Compute(new BrokenSchedule(), [2]));
    }

    private sealed class BrokenSchedule : ISchedule
    {
        public double ValueAt(long step) => step == 1 ? double.NaN : 1;
    }
}
