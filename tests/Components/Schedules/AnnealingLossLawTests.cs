using System.Diagnostics;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Schedules;

namespace Pipelines.Components.Tests.Schedules;

[TestClass]
public sealed class AnnealingLossLawTests
{
    private const double Peak = 2e-4;
    private const long TotalSteps = 20_000;
    private static readonly AnnealingAreaOptions Areas = new(warmupSteps: 500);
    private static readonly LossLawParameters Truth = new(L0: 2.0, A: 0.5, Alpha: 0.5, C: 1.0);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void PredictIsTheLawAtTheAreas()
    {
        // The spec's cosine (at the peak at step 500, 0 at step 20000): a run of 20001 steps whose warm-up ends at 500.
        var cosine = new CosineSchedule(Peak, TotalSteps + 1, warmupSteps: 501);

        var predicted = AnnealingLossLaw.Predict(Truth, cosine, [20_000], new AnnealingAreaOptions(warmupSteps: 501));

        Assert.AreEqual(2.0 + 0.5 * Math.Pow(2.050100, -0.5) - 1.0 * 0.197474, predicted[0], 2e-6);
    }

    [TestMethod]
    public void AnalyticGradientMatchesCentralDifferences()
    {
        var random = new Random(7);
        var s1 = Enumerable.Range(0, 33).Select(_ => 0.1 + 3 * random.NextDouble()).ToArray();
        var s2 = Enumerable.Range(0, 33).Select(_ => 0.2 * random.NextDouble()).ToArray();
        // Observations spread around the prediction so both Huber branches are exercised.
        var observed = s1.Select((value, index) => (2 + 0.5 / Math.Sqrt(value) - s2[index]) * (1 + 0.004 * (random.NextDouble() - 0.5))).ToArray();
        var objective = new LossLawObjective(s1, s2, observed, 1e-3);
        double[] point = [1.9, 0.6, 0.45, 1.2];

        var analytic = new double[4];
        objective.Evaluate(point, analytic);
        for (var index = 0; index < 4; index++)
        {
            var step = 1e-6;
            var plus = (double[])point.Clone();
            var minus = (double[])point.Clone();
            plus[index] += step;
            minus[index] -= step;
            var numerical = (objective.Evaluate(plus, []) - objective.Evaluate(minus, [])) / (2 * step);
            Assert.AreEqual(numerical, analytic[index], 1e-6 * Math.Max(1, Math.Abs(numerical)), $"parameter {index}");
        }
    }

    [TestMethod]
    public void ObjectiveStaysFiniteWhereThePredictionIsNotPositive()
    {
        var objective = new LossLawObjective([1.0], [1.0], [2.0], 1e-3);
        var gradient = new double[4];

        var value = objective.Evaluate([0, 0, 0, 5], gradient);

        Assert.IsTrue(double.IsFinite(value));
        Assert.IsTrue(gradient.All(double.IsFinite));
        Assert.IsLessThan(0.0, gradient[0], "raising L0 must lower the objective");
    }

    [TestMethod]
    [DataRow(LossLawGradient.Analytic)]
    [DataRow(LossLawGradient.CentralDifference)]
    public void FitRecoversTheParametersAndPredictsWsd(LossLawGradient gradient)
    {
        long[] steps = [.. Enumerable.Range(1, 80).Select(index => index * 250L)];
        var constant = new LinearWarmupSchedule(Peak, 500);
        var cosine = new CosineSchedule(Peak, TotalSteps, warmupSteps: 500);
        var random = new Random(2408);
        LossCurve Synthesise(ISchedule schedule) =>
            new(schedule, steps, [.. AnnealingLossLaw.Predict(Truth, schedule, steps, Areas).Select(loss => loss * (1 + 5e-4 * Normal(random)))], Areas);

        var watch = Stopwatch.StartNew();
        var fit = AnnealingLossLaw.Fit([Synthesise(constant), Synthesise(cosine)], new LossLawFitOptions(gradient: gradient, maximumIterations: 300));
        watch.Stop();
        TestContext.WriteLine($"{gradient}: {fit} in {watch.ElapsedMilliseconds} ms; errors {string.Join(", ", fit.MeanAbsoluteRelativeErrors)}");

        Assert.AreEqual(Truth.L0, fit.Parameters.L0, 0.01 * Truth.L0);
        Assert.AreEqual(Truth.A, fit.Parameters.A, 0.03 * Truth.A);
        Assert.AreEqual(Truth.Alpha, fit.Parameters.Alpha, 0.03 * Truth.Alpha);
        Assert.AreEqual(Truth.C, fit.Parameters.C, 0.03 * Truth.C);
        Assert.AreEqual(2, fit.MeanAbsoluteRelativeErrors.Count);
        Assert.IsTrue(fit.MeanAbsoluteRelativeErrors.All(error => error < 1e-3));
        Assert.AreEqual(54, fit.StartCount);

        var wsd = new WarmupStableDecaySchedule(Peak, TotalSteps, DecayLength.OfFraction(0.2), warmupSteps: 500);
        var expected = AnnealingLossLaw.Predict(Truth, wsd, steps, Areas);
        var predicted = AnnealingLossLaw.Predict(fit.Parameters, wsd, steps, Areas);
        for (var index = 0; index < steps.Length; index++)
            Assert.AreEqual(expected[index], predicted[index], 0.01 * expected[index], $"step {steps[index]}");
    }

    [TestMethod]
    public void BadInputIsRejected()
    {
        var schedule = new ConstantSchedule(1);
        Assert.ThrowsExactly<ArgumentException>(() => AnnealingLossLaw.Fit([]));
        Assert.ThrowsExactly<ArgumentException>(() => new LossCurve(schedule, [], []));
        Assert.ThrowsExactly<ArgumentException>(() => new LossCurve(schedule, [1, 2], [1.0]));
        Assert.AreEqual("steps", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LossCurve(schedule, [-1], [1.0])).ParamName);
        foreach (var loss in new[] { 0.0, -1.0, double.NaN, double.PositiveInfinity })
            Assert.AreEqual("losses", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LossCurve(schedule, [1], [loss])).ParamName);
        // S1 = 0 at step 0 of a zero schedule: the law is undefined there.
        Assert.ThrowsExactly<ArgumentException>(() => AnnealingLossLaw.Fit([new LossCurve(new ConstantSchedule(0), [0], [1.0])]));
        Assert.ThrowsExactly<ArgumentException>(() => AnnealingLossLaw.Predict(Truth, new ConstantSchedule(0), [0]));
    }

    [TestMethod]
    [DataRow("huberDelta")]
    [DataRow("gradient")]
    [DataRow("maximumIterations")]
    [DataRow("lowerBound")]
    [DataRow("upperBound")]
    [DataRow("l0Starts")]
    [DataRow("aStarts")]
    [DataRow("alphaStarts")]
    [DataRow("cStarts")]
    public void BadFitOptionsAreRejected(string option)
    {
        Func<LossLawFitOptions> make = option switch
        {
            "huberDelta" => () => new LossLawFitOptions(huberDelta: 0),
            "gradient" => () => new LossLawFitOptions(gradient: (LossLawGradient)7),
            "maximumIterations" => () => new LossLawFitOptions(maximumIterations: 0),
            "lowerBound" => () => new LossLawFitOptions(lowerBound: new LossLawParameters(-1, 0, 0, 0)),
            "upperBound" => () => new LossLawFitOptions(upperBound: new LossLawParameters(10, 10, -1, 10)),
            "l0Starts" => () => new LossLawFitOptions(l0Starts: [2000]),
            "aStarts" => () => new LossLawFitOptions(aStarts: [-1]),
            "alphaStarts" => () => new LossLawFitOptions(alphaStarts: [double.NaN]),
            "cStarts" => () => new LossLawFitOptions(cStarts: [1e5]),
            _ => throw new AssertFailedException(option),
        };

        Assert.AreEqual(option, Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => make()).ParamName);
    }

    [TestMethod]
    public void EmptyStartsAreRejected() =>
        Assert.AreEqual("alphaStarts", Assert.ThrowsExactly<ArgumentException>(() => new LossLawFitOptions(alphaStarts: [])).ParamName);

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
