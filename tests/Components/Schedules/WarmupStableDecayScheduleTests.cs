using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Schedules;

namespace Pipelines.Components.Tests.Schedules;

[TestClass]
public sealed class WarmupStableDecayScheduleTests
{
    // Peak 2, run S = 1000 (steps 0..999), warm-up W = 100, decay 200 steps from T = 800, floor m = 0.1 (0.2 absolute).
    // Step s runs at the formula's value for s + 1 updates done: step 0 at w(1/W), step 999 at the floor.
    private const double Peak = 2;
    private const double Tolerance = 1e-12;

    private static WarmupStableDecaySchedule Make(DecayShape shape, WarmupShape warmup = WarmupShape.Linear) =>
        new(Peak, 1000, DecayLength.OfSteps(200), warmupSteps: 100, decayShape: shape, minRatio: 0.1,
            halfLifeSteps: shape == DecayShape.Exponential ? 50 : 0, warmupShape: warmup);

    [TestMethod]
    [DataRow(WarmupShape.Linear, 0.02, 0.5, 1.0, 1.98)]
    [DataRow(WarmupShape.Cosine, 0.0004934396342684, 0.29289321881345254, 1.0, 1.9995065603657316)]
    public void WarmupBoundaries(WarmupShape shape, double first, double quarter, double half, double lastButOne)
    {
        var schedule = Make(DecayShape.Linear, shape);

        Assert.AreEqual(first, schedule.ValueAt(0), Tolerance, "the first update runs at w(1/W), not 0");
        Assert.AreEqual(quarter, schedule.ValueAt(24), Tolerance);
        Assert.AreEqual(half, schedule.ValueAt(49), Tolerance);
        Assert.AreEqual(lastButOne, schedule.ValueAt(98), Tolerance);
        Assert.AreEqual(Peak, schedule.ValueAt(99), "the warm-up's last step runs at the peak");
        Assert.AreEqual(Peak, schedule.ValueAt(100), "the stable phase");
    }

    // Hand-computed at p = 0.5 (step 899, the 100th of the decay):
    // linear, cosine: 2 (0.1 + 0.9 * 0.5) = 1.1;  1 - sqrt: 2 (0.1 + 0.9 (1 - sqrt 0.5)) = 0.727207793864214;
    // exponential (half-life 50): 2 (0.1 + 0.9 * 0.5^2) = 0.65;  inverse: 2 / ((1/0.1 - 1) 0.5 + 1) = 2 / 5.5.
    // Every shape runs the run's last step, 999, at the floor 0.2 (the exponential drops there from 0.2 + 1.8 * 0.5^(199/50)).
    [TestMethod]
    [DataRow(DecayShape.Linear, 1.1)]
    [DataRow(DecayShape.Cosine, 1.1)]
    [DataRow(DecayShape.OneMinusSqrt, 0.727207793864214)]
    [DataRow(DecayShape.Exponential, 0.65)]
    [DataRow(DecayShape.Inverse, 0.36363636363636365)]
    public void DecayBoundaries(DecayShape shape, double middle)
    {
        var schedule = Make(shape);

        Assert.AreEqual(Peak, schedule.ValueAt(100), "end of warm-up");
        Assert.AreEqual(Peak, schedule.ValueAt(799), "last stable step");
        Assert.IsLessThan(Peak, schedule.ValueAt(800), "the decay's first step (p = 1/200) is below the peak");
        Assert.AreEqual(middle, schedule.ValueAt(899), Tolerance, "p = 0.5");
        Assert.IsGreaterThan(0.2, schedule.ValueAt(998), "the last step but one is above the floor");
        Assert.AreEqual(0.2, schedule.ValueAt(999), Tolerance, "the run's last step (p = 1) runs at the floor");
        Assert.AreEqual(0.2, schedule.ValueAt(1000), Tolerance, "past the end");
        Assert.AreEqual(0.2, schedule.ValueAt(long.MaxValue), Tolerance, "far past the end");
    }

    [TestMethod]
    public void InverseDecayDividesByTheDecayLengthNotTheRunLength()
    {
        // The peers' pitfall: p = (s - T) / S would leave the rate at 2 / (9 * 0.2 + 1) = 0.714 at the end of the run.
        var schedule = Make(DecayShape.Inverse);

        Assert.AreEqual(0.1 * Peak, schedule.ValueAt(999), Tolerance);
        Assert.AreEqual(Peak / (9.0 * 100 / 200 + 1), schedule.ValueAt(899), Tolerance);
    }

    [TestMethod]
    public void DecayGivenAsAFractionOfTheRun()
    {
        var schedule = new WarmupStableDecaySchedule(1, 1000, DecayLength.OfFraction(0.1));

        Assert.AreEqual(900L, schedule.Layout.DecayStart);
        Assert.AreEqual(100L, schedule.Layout.DecaySteps);
        Assert.AreEqual(1.0, schedule.ValueAt(0), "no warm-up: the peak from step 0");
        Assert.AreEqual(1.0, schedule.ValueAt(899), "the last stable step");
        Assert.AreEqual(0.5, schedule.ValueAt(949), Tolerance);
        Assert.AreEqual(0.0, schedule.ValueAt(999), "the run's last step");
    }

    [TestMethod]
    public void ShapesAreMonotoneBetweenPhaseBoundaries()
    {
        var random = new Random(2404);
        foreach (var shape in Enum.GetValues<DecayShape>())
        foreach (var warmupShape in Enum.GetValues<WarmupShape>())
            for (var trial = 0; trial < 5; trial++)
            {
                var total = random.Next(20, 600);
                var warmup = random.Next(0, total / 3);
                var decay = random.Next(1, total - warmup + 1);
                var minRatio = shape == DecayShape.Inverse ? 0.01 + 0.9 * random.NextDouble() : random.NextDouble() * 0.5;
                var halfLife = shape == DecayShape.Exponential ? random.Next(1, 100) : 0;
                var schedule = new WarmupStableDecaySchedule(0.3, total, DecayLength.OfSteps(decay), warmup, shape, minRatio, halfLife, warmupShape);
                var decayStart = total - decay;
                var what = $"{shape}/{warmupShape} S={total} W={warmup} D={decay} m={minRatio}";

                Assert.IsGreaterThan(0.0, schedule.ValueAt(0), $"{what}: the first step learns");
                for (long step = 1; step <= total + 5; step++)
                {
                    var before = schedule.ValueAt(step - 1);
                    var now = schedule.ValueAt(step);
                    if (step < warmup) Assert.IsGreaterThanOrEqualTo(before, now, $"{what}: warm-up rises at {step}");
                    else if (step < decayStart) Assert.AreEqual(0.3, now, $"{what}: stable at {step}");
                    else Assert.IsLessThanOrEqualTo(before + 1e-15, now, $"{what}: decay falls at {step}");
                    if (step >= warmup) Assert.IsTrue(now >= 0.3 * minRatio - 1e-15 && now <= 0.3, $"{what}: in [m peak, peak] at {step}");
                }

                if (warmup > 0) Assert.AreEqual(0.3, schedule.ValueAt(warmup - 1), $"{what}: the warm-up's last step is at the peak");
                Assert.AreEqual(0.3 * minRatio, schedule.ValueAt(total - 1), 1e-15, $"{what}: the run's last step is at the floor");
                Assert.AreEqual(0.3 * minRatio, schedule.ValueAt(total + 1), 1e-15, $"{what}: floor past the end");
            }
    }

    [TestMethod]
    public void OpenEndedScheduleStaysAtThePeakUntilTheDecayIsStarted()
    {
        var open = WarmupStableDecaySchedule.OpenEnded(1, warmupSteps: 10, decaySteps: 100);

        Assert.IsTrue(open.Layout.IsOpenEnded);
        Assert.IsNull(open.Layout.DecayEnd);
        Assert.AreEqual(1.0, open.ValueAt(1_000_000_000_000));

        var decided = open.StartDecayAt(5000);
        Assert.AreEqual(1.0, decided.ValueAt(4999));
        Assert.AreEqual(0.5, decided.ValueAt(5049), Tolerance);
        Assert.AreEqual(0.0, decided.ValueAt(5099));
        Assert.AreEqual(5100L, decided.Layout.DecayEnd);
    }

    [TestMethod]
    public void BranchedDecayFollowsTheMainRunUpToTheBranchPoint()
    {
        var main = WarmupStableDecaySchedule.OpenEnded(1, warmupSteps: 10, decaySteps: 100, DecayShape.Cosine);

        var branch = main.BranchDecay(fromStep: 400, decaySteps: 40);

        for (long step = 0; step < 400; step++) Assert.AreEqual(main.ValueAt(step), branch.ValueAt(step), $"step {step}");
        Assert.IsLessThan(1.0, branch.ValueAt(400), "the branch's first step already decays");
        Assert.AreEqual(0.5, branch.ValueAt(419), Tolerance);
        Assert.AreEqual(0.0, branch.ValueAt(439), Tolerance, "the branch's last step (440 updates done) runs at the floor");
        Assert.AreEqual(DecayShape.Cosine, branch.Layout.DecayShape);
        Assert.AreEqual(1.0, main.ValueAt(440), "the main branch is untouched");
    }

    [TestMethod]
    public void ExtendStableMovesTheDecay()
    {
        var schedule = new WarmupStableDecaySchedule(1, 1000, DecayLength.OfSteps(100));

        var extended = schedule.ExtendStable(500);

        Assert.AreEqual(1.0, extended.ValueAt(1399));
        Assert.AreEqual(0.5, extended.ValueAt(1449), Tolerance);
        Assert.AreEqual(0.0, extended.ValueAt(1499));
    }

    [TestMethod]
    public void DescribeDifferencesIncludesThePeak()
    {
        var before = new WarmupStableDecaySchedule(1e-3, 1000, DecayLength.OfSteps(100));
        var after = new WarmupStableDecaySchedule(2e-3, before.Layout.StartDecayAt(950));

        CollectionAssert.AreEqual(
            new[] { "peak learning rate changed from 0.001 to 0.002", "decay start changed from 900 to 950", "decay end changed from 1000 to 1050" },
            before.DescribeDifferences(after).ToArray());
        Assert.AreEqual(0, before.DescribeDifferences(before).Count);
    }

    [TestMethod]
    public void JsonRoundTrip()
    {
        var schedule = new WarmupStableDecaySchedule(3e-4, 5000, DecayLength.OfFraction(0.2), warmupSteps: 100,
            decayShape: DecayShape.Exponential, minRatio: 0.05, halfLifeSteps: 120, warmupShape: WarmupShape.Cosine);

        var json = schedule.ToJson();
        var read = WarmupStableDecaySchedule.FromJson(json);

        Assert.AreEqual(schedule, read);
        StringAssert.Contains(json, "\"decayShape\":\"Exponential\"");
        Assert.AreEqual(schedule.ValueAt(4500), read.ValueAt(4500));
    }

    [TestMethod]
    [DataRow("peakLearningRate", -1.0)]
    [DataRow("peakLearningRate", double.NaN)]
    [DataRow("peakLearningRate", double.PositiveInfinity)]
    [DataRow("totalSteps", 0.0)]
    [DataRow("warmupSteps", -1.0)]
    [DataRow("warmupSteps", 1001.0)]
    [DataRow("decay", 900.0)]
    [DataRow("minRatio", -0.1)]
    [DataRow("minRatio", 1.5)]
    [DataRow("minRatio", double.NaN)]
    [DataRow("decayShape", 42.0)]
    [DataRow("warmupShape", 42.0)]
    [DataRow("halfLifeSteps", 5.0)]
    public void BadOptionsAreRejectedNamingTheOption(string option, double value)
    {
        Func<WarmupStableDecaySchedule> make = option switch
        {
            "peakLearningRate" => () => new(value, 1000, DecayLength.OfSteps(100)),
            "totalSteps" => () => new(1, (long)value, DecayLength.OfSteps(1)),
            "warmupSteps" => () => new(1, 1000, DecayLength.OfSteps(1), warmupSteps: (long)value),
            // Warm-up 200 and decay 900 do not fit together in 1000 steps.
            "decay" => () => new(1, 1000, DecayLength.OfSteps((long)value), warmupSteps: 200),
            "minRatio" => () => new(1, 1000, DecayLength.OfSteps(100), minRatio: value),
            "decayShape" => () => new(1, 1000, DecayLength.OfSteps(100), decayShape: (DecayShape)(int)value),
            "warmupShape" => () => new(1, 1000, DecayLength.OfSteps(100), warmupShape: (WarmupShape)(int)value),
            // A half-life on a shape that has none.
            "halfLifeSteps" => () => new(1, 1000, DecayLength.OfSteps(100), decayShape: DecayShape.Cosine, halfLifeSteps: (long)value),
            _ => throw new AssertFailedException(option),
        };

        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => make());

        Assert.AreEqual(option, exception.ParamName);
    }

    [TestMethod]
    public void InverseShapeWithoutAFloorIsRejectedWithAClearMessage()
    {
        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(
            () => new WarmupStableDecaySchedule(1, 1000, DecayLength.OfSteps(100), decayShape: DecayShape.Inverse));

        Assert.AreEqual("minRatio", exception.ParamName);
        StringAssert.Contains(exception.Message, "divides by m");
    }

    [TestMethod]
    public void ExponentialShapeWithoutAHalfLifeGetsATenthOfTheDecay()
    {
        var schedule = new WarmupStableDecaySchedule(1, 1000, DecayLength.OfSteps(200), decayShape: DecayShape.Exponential);

        Assert.AreEqual(20, schedule.Layout.HalfLifeSteps);
        Assert.AreEqual(0.5, schedule.ValueAt(819), Tolerance, "one half-life (20 updates) into the decay");
        Assert.AreEqual(Math.Pow(0.5, 199 / 20.0), schedule.ValueAt(998), Tolerance, "within 0.1% of the floor before the last step");
        Assert.AreEqual(0.0, schedule.ValueAt(999), "the last step at the floor");
        Assert.AreEqual(10, WarmupStableDecaySchedule.OpenEnded(1, 0, 100, DecayShape.Exponential).Layout.HalfLifeSteps);
        Assert.AreEqual(1, PhaseLayout.DefaultHalfLifeSteps(4), "at least one step");
        Assert.AreEqual(0, new WarmupStableDecaySchedule(1, 1000, DecayLength.OfSteps(200)).Layout.HalfLifeSteps, "no half-life for the other shapes");
        Assert.AreEqual("decaySteps", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => PhaseLayout.DefaultHalfLifeSteps(0)).ParamName);
    }

    [TestMethod]
    public void AnExplicitHalfLifeOfZeroIsStillRefusedForTheExponentialShape()
    {
        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(
            () => new WarmupStableDecaySchedule(1, 1000, DecayLength.OfSteps(100), decayShape: DecayShape.Exponential, halfLifeSteps: 0));

        Assert.AreEqual("halfLifeSteps", exception.ParamName);
        StringAssert.Contains(exception.Message, "got 0");
    }

    [TestMethod]
    public void WarmupLongerThanTheRunIsNamed()
    {
        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new WarmupStableDecaySchedule(1, 100, DecayLength.OfSteps(1), warmupSteps: 101));

        StringAssert.Contains(exception.Message, "warmupSteps (101) is longer than the run (totalSteps = 100)");
    }
}
