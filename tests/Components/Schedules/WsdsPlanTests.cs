using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Schedules;

namespace Pipelines.Components.Tests.Schedules;

[TestClass]
public sealed class WsdsPlanTests
{
    private const double Tolerance = 1e-12;
    private static readonly WsdsPlan Plan = new(1, [1000, 2000, 4000], decayFraction: 0.1);

    [TestMethod]
    public void CyclesForBudgets1000_2000_4000()
    {
        CollectionAssert.AreEqual(
            new[]
            {
                new WsdsCycle(0, 0, 0, 900, 1000, 1000),
                new WsdsCycle(1, 1000, 1000, 1900, 2000, 2000),
                new WsdsCycle(2, 2000, 2000, 3800, 4000, null),
            },
            Plan.Cycles.ToArray());
        CollectionAssert.AreEqual(new long[] { 1000, 2000, 4000 }, Plan.DecayedCheckpointSteps.ToArray());
        Assert.AreEqual(200, Plan.Cycles[2].DecaySteps);
        Assert.IsTrue(Plan.IsDecayedCheckpointStep(2000));
        Assert.IsFalse(Plan.IsDecayedCheckpointStep(1999));
        Assert.IsFalse(Plan.IsDecayedCheckpointStep(3800));
    }

    [TestMethod]
    public void RatesDecayThenResumeAtThePeak()
    {
        (long Step, double Rate)[] expected =
        [
            // Each cycle's last step (the budget minus one) runs at the floor; the budget step resumes at the peak.
            (0, 1), (899, 1), (900, 0.99), (949, 0.5), (998, 0.01), (999, 0),
            (1000, 1), (1899, 1), (1949, 0.5), (1999, 0),
            (2000, 1), (3799, 1), (3899, 0.5), (3998, 0.005), (3999, 0), (4000, 0), (4001, 0), (long.MaxValue, 0),
        ];
        foreach (var (step, rate) in expected)
            Assert.AreEqual(rate, Plan.ValueAt(step), Tolerance, $"step {step}");
    }

    [TestMethod]
    public void WarmupAndRewarmup()
    {
        // Warm-up 100 from 0; re-warm-up 50 from the floor 0.1 * 2 = 0.2 back to the peak 2.
        var plan = new WsdsPlan(2, [1000, 2000], 0.1, warmupSteps: 100, rewarmupSteps: 50, minRatio: 0.1);

        Assert.AreEqual(0.02, plan.ValueAt(0), Tolerance, "the first update runs at peak / W");
        Assert.AreEqual(1.0, plan.ValueAt(49), Tolerance);
        Assert.AreEqual(2.0, plan.ValueAt(99), Tolerance, "the warm-up's last step runs at the peak");
        Assert.AreEqual(2 * (0.1 + 0.9 * 0.01), plan.ValueAt(998), Tolerance);
        Assert.AreEqual(0.2, plan.ValueAt(999), Tolerance, "the first cycle's last step runs at the floor");
        Assert.AreEqual(2 * (0.1 + 0.9 * 0.02), plan.ValueAt(1000), Tolerance, "the re-warm-up's first step rises from the floor");
        Assert.AreEqual(1.1, plan.ValueAt(1024), Tolerance);
        Assert.AreEqual(2.0, plan.ValueAt(1049), Tolerance, "the re-warm-up's last step runs at the peak");
        Assert.AreEqual(new WsdsCycle(1, 1000, 1050, 1900, 2000, null), plan.Cycles[1]);
        Assert.AreEqual(0.2, plan.ValueAt(1999), Tolerance);
        Assert.AreEqual(0.2, plan.ValueAt(2000), Tolerance);
        Assert.AreEqual(0.2, plan.ValueAt(2001), Tolerance);
    }

    [TestMethod]
    public void EveryCycleDecaysMonotonically()
    {
        var plan = new WsdsPlan(1, [300, 700, 1200], 0.2, decayShape: DecayShape.Inverse, minRatio: 0.05);
        foreach (var cycle in plan.Cycles)
        {
            for (var step = cycle.Start; step < cycle.DecayStart; step++) Assert.AreEqual(1.0, plan.ValueAt(step), $"stable at {step}");
            for (var step = cycle.DecayStart + 1; step < cycle.DecayEnd; step++)
                Assert.IsLessThan(plan.ValueAt(step - 1), plan.ValueAt(step), $"decay falls at {step}");
        }

        foreach (var cycle in plan.Cycles)
            Assert.AreEqual(0.05, plan.ValueAt(cycle.DecayEnd - 1), Tolerance, $"the inverse decay reaches the floor at step {cycle.DecayEnd - 1}");
        Assert.AreEqual(0.05, plan.ValueAt(1200), Tolerance, "and stays there past the last budget");
    }

    [TestMethod]
    public void AddBudgetAppendsACycle()
    {
        var longer = Plan.AddBudget(8000);

        Assert.AreEqual(4, longer.Cycles.Count);
        Assert.AreEqual(new WsdsCycle(3, 4000, 4000, 7600, 8000, null), longer.Cycles[3]);
        Assert.AreEqual(4000L, longer.Cycles[2].ResumeStep);
        Assert.AreEqual(1.0, longer.ValueAt(4000));
        Assert.AreEqual("budgets", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Plan.AddBudget(4000)).ParamName);
    }

    [TestMethod]
    public void JsonRoundTripAndDifferences()
    {
        var plan = new WsdsPlan(3e-4, [500, 1500], 0.2, warmupSteps: 50, rewarmupSteps: 20, decayShape: DecayShape.Exponential, minRatio: 0.1, halfLifeSteps: 30);

        var read = WsdsPlan.FromJson(plan.ToJson());

        Assert.AreEqual(plan, read);
        Assert.AreEqual(plan.GetHashCode(), read.GetHashCode());
        StringAssert.Contains(plan.ToJson(), "\"budgets\":[500,1500]");
        Assert.AreEqual(0, plan.DescribeDifferences(read).Count);
        CollectionAssert.AreEqual(
            new[] { "budgets changed from [500, 1500] to [500, 1500, 3000]" },
            plan.DescribeDifferences(plan.AddBudget(3000)).ToArray());
        CollectionAssert.AreEqual(
            new[] { "decay fraction changed from 0.1 to 0.2", "re-warm-up steps changed from 0 to 10" },
            Plan.DescribeDifferences(new WsdsPlan(1, [1000, 2000, 4000], 0.2, rewarmupSteps: 10)).ToArray());
    }

    [TestMethod]
    public void InvalidJsonIsRejected() =>
        Assert.AreEqual("budgets", Assert.ThrowsExactly<ArgumentOutOfRangeException>(
            () => WsdsPlan.FromJson("""{"peakLearningRate":1,"budgets":[2000,1000],"decayFraction":0.1}""")).ParamName);

    [TestMethod]
    [DataRow("peak")]
    [DataRow("budgets equal")]
    [DataRow("budgets decreasing")]
    [DataRow("budget zero")]
    [DataRow("decay fraction zero")]
    [DataRow("decay fraction one")]
    [DataRow("decay fraction NaN")]
    [DataRow("warm-up negative")]
    [DataRow("warm-up too long")]
    [DataRow("re-warm-up negative")]
    [DataRow("re-warm-up too long")]
    [DataRow("decay rounds to nothing")]
    [DataRow("min ratio")]
    [DataRow("inverse without floor")]
    [DataRow("exponential without half-life")]
    [DataRow("decay shape")]
    public void BadOptionsAreRejectedNamingTheOption(string @case)
    {
        (string Option, Func<WsdsPlan> Make) bad = @case switch
        {
            "peak" => ("peakLearningRate", () => new WsdsPlan(double.NaN, [1000], 0.1)),
            "budgets equal" => ("budgets", () => new WsdsPlan(1, [1000, 1000], 0.1)),
            "budgets decreasing" => ("budgets", () => new WsdsPlan(1, [2000, 1000], 0.1)),
            "budget zero" => ("budgets", () => new WsdsPlan(1, [0, 1000], 0.1)),
            "decay fraction zero" => ("decayFraction", () => new WsdsPlan(1, [1000], 0)),
            "decay fraction one" => ("decayFraction", () => new WsdsPlan(1, [1000], 1)),
            "decay fraction NaN" => ("decayFraction", () => new WsdsPlan(1, [1000], double.NaN)),
            "warm-up negative" => ("warmupSteps", () => new WsdsPlan(1, [1000], 0.1, warmupSteps: -1)),
            "warm-up too long" => ("warmupSteps", () => new WsdsPlan(1, [1000], 0.1, warmupSteps: 901)),
            "re-warm-up negative" => ("rewarmupSteps", () => new WsdsPlan(1, [1000], 0.1, rewarmupSteps: -1)),
            "re-warm-up too long" => ("rewarmupSteps", () => new WsdsPlan(1, [1000, 1100], 0.1, rewarmupSteps: 91)),
            "decay rounds to nothing" => ("budgets", () => new WsdsPlan(1, [1000, 1004], 0.1)),
            "min ratio" => ("minRatio", () => new WsdsPlan(1, [1000], 0.1, minRatio: 2)),
            "inverse without floor" => ("minRatio", () => new WsdsPlan(1, [1000], 0.1, decayShape: DecayShape.Inverse)),
            "exponential without half-life" => ("halfLifeSteps", () => new WsdsPlan(1, [1000], 0.1, decayShape: DecayShape.Exponential)),
            "decay shape" => ("decayShape", () => new WsdsPlan(1, [1000], 0.1, decayShape: (DecayShape)12)),
            _ => throw new AssertFailedException(@case),
        };

        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => bad.Make());

        Assert.AreEqual(bad.Option, exception.ParamName);
    }

    [TestMethod]
    public void NoBudgetsIsRejected() =>
        Assert.AreEqual("budgets", Assert.ThrowsExactly<ArgumentException>(() => new WsdsPlan(1, [], 0.1)).ParamName);

    [TestMethod]
    public void ATooShortCycleIsNamedInTheMessage()
    {
        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new WsdsPlan(1, [1000, 1100], 0.1, rewarmupSteps: 91));

        StringAssert.Contains(exception.Message, "Cycle 1 (steps 1000 to 1100) is 100 steps long");
    }
}
