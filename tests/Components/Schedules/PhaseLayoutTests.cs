using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Schedules;

namespace Pipelines.Components.Tests.Schedules;

[TestClass]
public sealed class PhaseLayoutTests
{
    private static readonly PhaseLayout Run = PhaseLayout.ForRun(1000, DecayLength.OfSteps(100), warmupSteps: 50);

    [TestMethod]
    public void ForRunPlacesTheDecayAtTheEnd()
    {
        Assert.AreEqual(50, Run.WarmupSteps);
        Assert.AreEqual(900L, Run.DecayStart);
        Assert.AreEqual(100, Run.DecaySteps);
        Assert.AreEqual(1000L, Run.DecayEnd);
        Assert.IsFalse(Run.IsOpenEnded);
    }

    [TestMethod]
    public void MultiplierIsTheWarmupStableDecayShape()
    {
        // A run of 1000 steps, 0..999: step s runs at the shape's value after s + 1 updates.
        Assert.AreEqual(0.02, Run.MultiplierAt(0), "the first update runs at 1/W");
        Assert.AreEqual(0.5, Run.MultiplierAt(24));
        Assert.AreEqual(1.0, Run.MultiplierAt(49), "the warm-up's last step runs at the peak");
        Assert.AreEqual(1.0, Run.MultiplierAt(899), "the last stable step");
        Assert.AreEqual(0.99, Run.MultiplierAt(900), 1e-15, "the decay's first step");
        Assert.AreEqual(0.5, Run.MultiplierAt(949), 1e-15);
        Assert.AreEqual(0.0, Run.MultiplierAt(999), "the run's last step runs at the floor");
        Assert.AreEqual(0.0, Run.MultiplierAt(1000));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Run.MultiplierAt(-1));
    }

    [TestMethod]
    public void ExtendStableAndStartDecayAtReturnNewLayouts()
    {
        var extended = Run.ExtendStable(100);
        var moved = Run.StartDecayAt(500);

        Assert.AreEqual(1000L, extended.DecayStart);
        Assert.AreEqual(1100L, extended.DecayEnd);
        Assert.AreEqual(500L, moved.DecayStart);
        Assert.AreEqual(600L, moved.DecayEnd);
        Assert.AreEqual(900L, Run.DecayStart, "the original is unchanged");
        Assert.AreEqual(Run, Run.ExtendStable(0));
    }

    [TestMethod]
    public void OpenEndedLayoutCannotBeExtendedButCanBeDecided()
    {
        var open = PhaseLayout.OpenEnded(warmupSteps: 10, decaySteps: 200, DecayShape.OneMinusSqrt);

        Assert.IsTrue(open.IsOpenEnded);
        Assert.AreEqual(1.0, open.MultiplierAt(long.MaxValue));
        Assert.ThrowsExactly<InvalidOperationException>(() => open.ExtendStable(10));
        var decided = open.StartDecayAt(10_000);
        Assert.AreEqual(10_200L, decided.DecayEnd);
        Assert.AreEqual(DecayShape.OneMinusSqrt, decided.DecayShape);
    }

    [TestMethod]
    public void BranchDecayNeedsAStableCheckpoint()
    {
        var branch = Run.BranchDecay(fromStep: 600, decaySteps: 60);

        Assert.AreEqual(600L, branch.DecayStart);
        Assert.AreEqual(660L, branch.DecayEnd);
        Assert.AreEqual(Run.BranchDecay(900, 100), Run, "branching at the planned decay start is the plan");
        Assert.AreEqual("fromStep", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Run.BranchDecay(49, 10)).ParamName);
        Assert.AreEqual("fromStep", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Run.BranchDecay(901, 10)).ParamName);
        Assert.AreEqual("decaySteps", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Run.BranchDecay(600, 0)).ParamName);
    }

    [TestMethod]
    public void StartDecayBeforeTheWarmupEndsIsRejected() =>
        Assert.AreEqual("step", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Run.StartDecayAt(49)).ParamName);

    [TestMethod]
    public void ExtendStableByANegativeAmountIsRejected() =>
        Assert.AreEqual("steps", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Run.ExtendStable(-1)).ParamName);

    [TestMethod]
    public void DescribeDifferencesNamesEveryChange()
    {
        Assert.AreEqual(0, Run.DescribeDifferences(Run).Count);
        CollectionAssert.AreEqual(
            new[] { "decay start changed from 900 to 1000", "decay end changed from 1000 to 1100" },
            Run.DescribeDifferences(Run.ExtendStable(100)).ToArray());

        var other = new PhaseLayout(20, null, 300, DecayShape.Exponential, 0.1, 75, WarmupShape.Cosine);
        CollectionAssert.AreEqual(
            new[]
            {
                "warm-up steps changed from 50 to 20",
                "warm-up shape changed from Linear to Cosine",
                "decay start changed from 900 to undecided (open-ended stable phase)",
                "decay steps changed from 100 to 300",
                "decay end changed from 1000 to undecided (open-ended stable phase)",
                "decay shape changed from Linear to Exponential",
                "min ratio changed from 0 to 0.1",
                "half-life steps changed from 0 to 75",
            },
            Run.DescribeDifferences(other).ToArray());
    }

    [TestMethod]
    public void FirstStepThatDiffersTellsWhetherAResumedRunMaySwitch()
    {
        Assert.IsNull(Run.FirstStepThatDiffers(Run));
        Assert.AreEqual(900L, Run.FirstStepThatDiffers(Run.ExtendStable(100)), "a run resumed before step 900 may extend its stable phase");
        Assert.AreEqual(0L, Run.FirstStepThatDiffers(PhaseLayout.ForRun(1000, DecayLength.OfSteps(100), warmupSteps: 60)));
        Assert.AreEqual(900L, Run.FirstStepThatDiffers(new PhaseLayout(50, 900, 100, DecayShape.Cosine)));
        Assert.AreEqual(900L, Run.FirstStepThatDiffers(PhaseLayout.OpenEnded(50, 100)));
        Assert.IsNull(PhaseLayout.OpenEnded(50, 100).FirstStepThatDiffers(PhaseLayout.OpenEnded(50, 300, DecayShape.Cosine)),
            "two open-ended layouts with the same warm-up agree on every step");
    }

    [TestMethod]
    public void JsonRoundTrip()
    {
        foreach (var layout in new[] { Run, PhaseLayout.OpenEnded(7, 70, DecayShape.Inverse, 0.25), new PhaseLayout(0, 0, 1, DecayShape.Exponential, 0, 3, WarmupShape.Cosine) })
        {
            var json = layout.ToJson();
            Assert.AreEqual(layout, PhaseLayout.FromJson(json), json);
        }

        Assert.AreEqual(
            """{"warmupSteps":50,"decayStart":900,"decaySteps":100,"decayShape":"Linear","minRatio":0,"halfLifeSteps":0,"warmupShape":"Linear"}""",
            Run.ToJson());
        StringAssert.Contains(PhaseLayout.OpenEnded(7, 70).ToJson(), "\"decayStart\":null");
    }

    [TestMethod]
    public void InvalidJsonIsRejected()
    {
        var tooEarly = """{"warmupSteps":50,"decayStart":10,"decaySteps":100,"decayShape":"Linear","minRatio":0,"halfLifeSteps":0,"warmupShape":"Linear"}""";
        Assert.AreEqual("decayStart", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => PhaseLayout.FromJson(tooEarly)).ParamName);
        Assert.ThrowsExactly<InvalidDataException>(() => PhaseLayout.FromJson("null"));
        Assert.ThrowsExactly<JsonException>(() => PhaseLayout.FromJson("""{"warmupSteps":"many"}"""));
    }

    [TestMethod]
    [DataRow("warmupSteps")]
    [DataRow("decayStart")]
    [DataRow("decaySteps")]
    [DataRow("decayShape")]
    [DataRow("minRatio")]
    [DataRow("halfLifeSteps")]
    [DataRow("warmupShape")]
    [DataRow("totalSteps")]
    [DataRow("decay")]
    public void BadOptionsAreRejectedNamingTheOption(string option)
    {
        Func<PhaseLayout> make = option switch
        {
            "warmupSteps" => () => new PhaseLayout(-1, null, 10),
            "decayStart" => () => new PhaseLayout(10, 5, 10),
            "decaySteps" => () => new PhaseLayout(0, 5, 0),
            "decayShape" => () => new PhaseLayout(0, 5, 10, (DecayShape)99),
            "minRatio" => () => new PhaseLayout(0, 5, 10, DecayShape.Inverse, 0),
            "halfLifeSteps" => () => new PhaseLayout(0, 5, 10, DecayShape.Exponential, 0, 0),
            "warmupShape" => () => new PhaseLayout(0, 5, 10, warmupShape: (WarmupShape)99),
            "totalSteps" => () => PhaseLayout.ForRun(-3, DecayLength.OfSteps(1)),
            "decay" => () => PhaseLayout.ForRun(100, DecayLength.OfSteps(101)),
            _ => throw new AssertFailedException(option),
        };

        Assert.AreEqual(option, Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => make()).ParamName);
    }

    [TestMethod]
    public void DecayLengthResolvesStepsAndFractions()
    {
        Assert.AreEqual(100, DecayLength.OfSteps(100).Resolve(1000));
        Assert.AreEqual(100, DecayLength.OfFraction(0.1).Resolve(1000));
        Assert.AreEqual(3, DecayLength.OfFraction(0.25).Resolve(10), "2.5 rounds away from zero");
        Assert.AreEqual(1000, DecayLength.OfFraction(1).Resolve(1000));
        Assert.AreEqual("0.1 of the run", DecayLength.OfFraction(0.1).ToString());
        Assert.AreEqual("decay", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => DecayLength.OfFraction(0.01).Resolve(10)).ParamName);
        Assert.AreEqual("decay", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => DecayLength.OfSteps(11).Resolve(10)).ParamName);
        Assert.AreEqual("steps", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => DecayLength.OfSteps(0)).ParamName);
        foreach (var fraction in new[] { 0.0, -0.5, 1.5, double.NaN })
            Assert.AreEqual("fraction", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => DecayLength.OfFraction(fraction)).ParamName);
    }
}
