using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Schedules;

namespace Pipelines.Components.Tests.Schedules;

[TestClass]
public sealed class SimpleScheduleTests
{
    private const double Tolerance = 1e-12;

    public static IEnumerable<object[]> EverySchedule =>
    [
        [new ConstantSchedule(1)],
        [new LinearWarmupSchedule(1, 10)],
        [new CosineSchedule(1, 100, 10)],
        [new CyclicCosineSchedule(1, 50)],
        [new WarmupStableDecaySchedule(1, 100, DecayLength.OfSteps(10))],
        [WarmupStableDecaySchedule.OpenEnded(1, 0, 10)],
        [new WsdsPlan(1, [100, 200], 0.1)],
        [Schedule.Join([new ConstantSchedule(1), new ConstantSchedule(2)], [5])],
    ];

    [TestMethod]
    [DynamicData(nameof(EverySchedule))]
    public void NegativeStepThrows(ISchedule schedule) =>
        Assert.AreEqual("step", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => schedule.ValueAt(-1)).ParamName);

    [TestMethod]
    public void ConstantIsConstant()
    {
        var schedule = new ConstantSchedule(0.25);

        Assert.AreEqual(0.25, schedule.ValueAt(0));
        Assert.AreEqual(0.25, schedule.ValueAt(long.MaxValue));
        Assert.AreEqual(0.0, new ConstantSchedule(0).ValueAt(3));
    }

    [TestMethod]
    public void LinearWarmupRisesThenHolds()
    {
        var schedule = new LinearWarmupSchedule(3, 4);

        // Step 0, the first update, runs at peak / W; step W - 1 at the peak.
        CollectionAssert.AreEqual(new[] { 0.75, 1.5, 2.25, 3, 3, 3 }, Enumerable.Range(0, 6).Select(step => schedule.ValueAt(step)).ToArray());
        Assert.AreEqual(3.0, new LinearWarmupSchedule(3, 0).ValueAt(0), "no warm-up: the peak from step 0");
    }

    [TestMethod]
    public void CosineBoundaries()
    {
        // Peak 1, a run of S = 100 steps (0..99), W = 10, m = 0.2: the cosine spans steps 10..99, p = (s + 1 - 10) / 90.
        var schedule = new CosineSchedule(1, 100, warmupSteps: 10, minRatio: 0.2);

        Assert.AreEqual(0.1, schedule.ValueAt(0), Tolerance, "the first update runs at peak / W");
        Assert.AreEqual(0.5, schedule.ValueAt(4), Tolerance);
        Assert.AreEqual(1.0, schedule.ValueAt(9), Tolerance, "the warm-up's last step runs at the peak");
        Assert.AreEqual(0.2 + 0.8 * 0.5 * (1 + Math.Cos(Math.PI / 90)), schedule.ValueAt(10), Tolerance);
        Assert.AreEqual(0.6, schedule.ValueAt(54), Tolerance, "half way");
        Assert.AreEqual(0.2, schedule.ValueAt(99), Tolerance, "the run's last step runs at the floor");
        Assert.AreEqual(0.2, schedule.ValueAt(100), Tolerance, "past the end");
    }

    [TestMethod]
    public void CosineWithoutWarmupRunsItsLastStepAtTheFloor()
    {
        // A run of 4 steps: p = 1/4, 2/4, 3/4, 1.
        var schedule = new CosineSchedule(2, 4);

        double[] expected = [1 + Math.Sqrt(0.5), 1, 1 - Math.Sqrt(0.5), 0, 0];
        for (var step = 0; step < expected.Length; step++)
            Assert.AreEqual(expected[step], schedule.ValueAt(step), Tolerance, $"step {step}");
    }

    [TestMethod]
    public void CyclicCosineRestartsAtThePeak()
    {
        var schedule = new CyclicCosineSchedule(1, cycleSteps: 100, warmupSteps: 10);

        Assert.AreEqual(0.1, schedule.ValueAt(0), Tolerance, "the first update runs at peak / W");
        Assert.AreEqual(0.5, schedule.ValueAt(4), Tolerance);
        Assert.AreEqual(1.0, schedule.ValueAt(9), Tolerance, "the warm-up's last step runs at the peak");
        Assert.AreEqual(1.0, schedule.ValueAt(10), Tolerance, "first cycle starts");
        Assert.AreEqual(0.5, schedule.ValueAt(60), Tolerance);
        Assert.AreEqual(0.5 * (1 + Math.Cos(Math.PI * 99 / 100)), schedule.ValueAt(109), Tolerance, "last step of a cycle");
        Assert.AreEqual(1.0, schedule.ValueAt(110), Tolerance, "restart");
        Assert.AreEqual(0.5, schedule.ValueAt(10 + 7 * 100 + 50), Tolerance, "eighth cycle");
    }

    [TestMethod]
    public void CyclicCosineCyclesCanGrow()
    {
        // Cycles of 100, 200, 400 steps start at 0, 100, 300; floor 0.5.
        var schedule = new CyclicCosineSchedule(2, cycleSteps: 100, minRatio: 0.5, cycleLengthMultiplier: 2);

        Assert.AreEqual(2.0, schedule.ValueAt(100), Tolerance);
        Assert.AreEqual(1.5, schedule.ValueAt(200), Tolerance, "half way through the 200-step cycle");
        Assert.AreEqual(2.0, schedule.ValueAt(300), Tolerance);
        Assert.AreEqual(1.5, schedule.ValueAt(500), Tolerance, "half way through the 400-step cycle");
        Assert.IsTrue(double.IsFinite(schedule.ValueAt(long.MaxValue)));
    }

    [TestMethod]
    [DataRow("constant value")]
    [DataRow("warm-up peak")]
    [DataRow("warm-up steps")]
    [DataRow("cosine peak")]
    [DataRow("cosine total")]
    [DataRow("cosine warm-up")]
    [DataRow("cosine warm-up as long as the run")]
    [DataRow("cosine min ratio")]
    [DataRow("cosine warm-up shape")]
    [DataRow("cyclic peak")]
    [DataRow("cyclic cycle")]
    [DataRow("cyclic min ratio")]
    [DataRow("cyclic warm-up")]
    [DataRow("cyclic multiplier")]
    public void BadOptionsAreRejectedNamingTheOption(string @case)
    {
        (string Option, Func<ISchedule> Make) bad = @case switch
        {
            "constant value" => ("value", () => new ConstantSchedule(double.NaN)),
            "warm-up peak" => ("peakLearningRate", () => new LinearWarmupSchedule(-1, 5)),
            "warm-up steps" => ("warmupSteps", () => new LinearWarmupSchedule(1, -5)),
            "cosine peak" => ("peakLearningRate", () => new CosineSchedule(double.PositiveInfinity, 10)),
            "cosine total" => ("totalSteps", () => new CosineSchedule(1, 0)),
            "cosine warm-up" => ("warmupSteps", () => new CosineSchedule(1, 10, -1)),
            "cosine warm-up as long as the run" => ("warmupSteps", () => new CosineSchedule(1, 10, 10)),
            "cosine min ratio" => ("minRatio", () => new CosineSchedule(1, 10, minRatio: 1.01)),
            "cosine warm-up shape" => ("warmupShape", () => new CosineSchedule(1, 10, warmupShape: (WarmupShape)9)),
            "cyclic peak" => ("peakLearningRate", () => new CyclicCosineSchedule(-0.1, 10)),
            "cyclic cycle" => ("cycleSteps", () => new CyclicCosineSchedule(1, 0)),
            "cyclic min ratio" => ("minRatio", () => new CyclicCosineSchedule(1, 10, minRatio: -1)),
            "cyclic warm-up" => ("warmupSteps", () => new CyclicCosineSchedule(1, 10, warmupSteps: -1)),
            "cyclic multiplier" => ("cycleLengthMultiplier", () => new CyclicCosineSchedule(1, 10, cycleLengthMultiplier: 0)),
            _ => throw new AssertFailedException(@case),
        };

        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => bad.Make());

        Assert.AreEqual(bad.Option, exception.ParamName);
    }
}
