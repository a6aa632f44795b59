using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Experiments;

namespace Pipelines.Experiments.Tests;

/// <summary>The narrowing-valley landscape, and the paper's ordering of optimizers at two corners of its phase diagram.</summary>
[TestClass]
public sealed class NarrowingValleyTests
{
    /// <summary>A reduced budget: the paper's 1000 steps, but 16 replicates and 10 learning rates instead of 50 and 20.</summary>
    private static readonly NarrowingValleyOptions Reduced = new()
    {
        Replicates = 16,
        LearningRates = NarrowingValleyOptions.LogSpace(-3, 0, 10),
        Sharpnesses = [10],
    };

    [TestMethod]
    public void WithoutNoiseAdamBeatsSignum()
    {
        // Paper, Fig. 2: at low noise Adam's adaptive steps follow the narrowing valley best.
        var cell = NarrowingValleyExperiment.Run(Reduced with { NoiseLevels = [0] }, new Random(1)).Single();

        var adam = cell[ValleyOptimizer.Adam].BestLoss;
        var signum = cell[ValleyOptimizer.Signum].BestLoss;
        Assert.IsLessThan(signum, adam, $"sigma 0, a 10: Adam {adam:G4} vs Signum {signum:G4}");
    }

    [TestMethod]
    public void WithHighNoiseAndWeightDecayFocusBeatsAdam()
    {
        // Paper, Fig. 2b (wd 0.1): at a = 10 Adam wins up to sigma ~ 1-1.5; at sigma 3 FOCUS does.
        var cell = NarrowingValleyExperiment.Run(Reduced with { NoiseLevels = [3], WeightDecay = 0.1 }, new Random(1)).Single();

        var adam = cell[ValleyOptimizer.Adam].BestLoss;
        var focus = cell[ValleyOptimizer.Focus].BestLoss;
        Assert.IsLessThan(adam, focus, $"sigma 3, a 10, wd 0.1: FOCUS {focus:G4} vs Adam {adam:G4}");
    }

    [TestMethod]
    public void TheGradientMatchesFiniteDifferences()
    {
        var valley = new NarrowingValley(sharpness: 7, pull: 0.3, rotation: 0.4);
        foreach (var (first, second) in new[] { (0.3, -0.2), (1.5, 0.7), (-0.4, 2.0) })
        {
            const double step = 1e-6;
            var numericalFirst = (valley.Loss(first + step, second) - valley.Loss(first - step, second)) / (2 * step);
            var numericalSecond = (valley.Loss(first, second + step) - valley.Loss(first, second - step)) / (2 * step);
            var (analyticFirst, analyticSecond) = valley.Gradient(first, second);
            Assert.AreEqual(numericalFirst, analyticFirst, 1e-6 * (1 + Math.Abs(numericalFirst)));
            Assert.AreEqual(numericalSecond, analyticSecond, 1e-6 * (1 + Math.Abs(numericalSecond)));
        }
    }

    [TestMethod]
    public void TheValleyFloorDescendsAlongTheRotatedAxis()
    {
        // p = 2 (cos t, sin t) maps to (x, y) = (2, 0): L = -c x = -0.2, gradient -c (cos t, sin t).
        var valley = new NarrowingValley(sharpness: 10);
        var (first, second) = (2 * Math.Cos(Math.PI / 6), 2 * Math.Sin(Math.PI / 6));

        Assert.AreEqual(-0.2, valley.Loss(first, second), 1e-12);
        var gradient = valley.Gradient(first, second);
        Assert.AreEqual(-0.1 * Math.Cos(Math.PI / 6), gradient.First, 1e-12);
        Assert.AreEqual(-0.1 * Math.Sin(Math.PI / 6), gradient.Second, 1e-12);
        // Off the floor, at (x, y) = (1, 1): L = 0.5 a - c.
        var (offFirst, offSecond) = (Math.Cos(Math.PI / 6) - Math.Sin(Math.PI / 6), Math.Sin(Math.PI / 6) + Math.Cos(Math.PI / 6));
        Assert.AreEqual(4.9, valley.Loss(offFirst, offSecond), 1e-12);
    }

    [TestMethod]
    public void NoiseIsMultiplicativeWithMeanOne()
    {
        var valley = new NarrowingValley(sharpness: 1);
        var points = new float[2 * 20000];
        points.AsSpan().Fill(0.5f);
        var gradients = new float[points.Length];
        valley.NoisyGradients(points, gradients, noise: 2, new Random(3));
        var exact = valley.Gradient(0.5, 0.5);

        var ratios = Enumerable.Range(0, points.Length / 2).Select(index => gradients[2 * index] / exact.First).ToArray();
        var mean = ratios.Average();
        var deviation = Math.Sqrt(ratios.Select(ratio => (ratio - mean) * (ratio - mean)).Average());
        Assert.AreEqual(1, mean, 0.05);
        Assert.AreEqual(2, deviation, 0.05);
    }

    [TestMethod]
    public void ADivergedReplicateCountsAsInfinitelyBad()
    {
        // Points beyond float range overflow: the final loss is not finite, so the run scores +infinity.
        var options = new NarrowingValleyOptions { Replicates = 3, Steps = 1, InitialScale = 1e39 };

        var loss = NarrowingValleyExperiment.MeanFinalLoss(options, new NarrowingValley(10), ValleyOptimizer.Adam, 0.01, 0, new Random(1));

        Assert.AreEqual(double.PositiveInfinity, loss);
    }

    [TestMethod]
    public void ResultsDependOnlyOnTheSeedAndProgressIsReported()
    {
        var options = new NarrowingValleyOptions { Steps = 50, Replicates = 3, LearningRates = [0.01, 0.1], NoiseLevels = [0, 1], Sharpnesses = [1, 10] };
        var reports = new List<NarrowingValleyProgress>();

        var sequential = NarrowingValleyExperiment.Run(options, new Random(5), new SynchronousProgress(reports));
        var parallel = NarrowingValleyExperiment.Run(options, new Random(5), parallelism: new Parallelism(2));

        Assert.HasCount(4, sequential);
        CollectionAssert.AreEqual(
            sequential.SelectMany(cell => cell.Scores.SelectMany(score => score.MeanFinalLosses)).ToArray(),
            parallel.SelectMany(cell => cell.Scores.SelectMany(score => score.MeanFinalLosses)).ToArray());
        CollectionAssert.AreEqual(new[] { 1, 2, 3, 4 }, reports.Select(report => report.CompletedCells).ToArray());
        Assert.IsTrue(reports.All(report => report.TotalCells == 4));
    }

    [TestMethod]
    public void ACancelledRunStops()
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.ThrowsExactly<OperationCanceledException>(() => NarrowingValleyExperiment.Run(new NarrowingValleyOptions(), new Random(1), cancellationToken: cancellation.Token));
    }

    [TestMethod]
    public void DefaultsAreThePapers()
    {
        var options = new NarrowingValleyOptions();

        Assert.AreEqual((1000, 50, 0.1, 1e-4), (options.Steps, options.Replicates, options.Pull, options.InitialScale));
        Assert.AreEqual(Math.PI / 6, options.Rotation);
        Assert.HasCount(20, options.LearningRates);
        Assert.AreEqual(1e-3, options.LearningRates[0], 1e-15);
        Assert.AreEqual(1.0, options.LearningRates[^1], 1e-12);
        Assert.AreEqual(3.0, options.NoiseLevels.Max());
    }

    [TestMethod]
    public void BadOptionsThrowNamingTheOption()
    {
        Assert.AreEqual("Replicates", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new NarrowingValleyOptions { Replicates = 0 }).ParamName);
        Assert.AreEqual("LearningRates", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new NarrowingValleyOptions { LearningRates = [0.1, -1] }).ParamName);
        Assert.AreEqual("WeightDecay", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new NarrowingValleyOptions { WeightDecay = double.NaN }).ParamName);
        Assert.AreEqual("sharpness", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new NarrowingValley(-1)).ParamName);
    }

    /// <summary>Progress that records on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress(List<NarrowingValleyProgress> reports) : IProgress<NarrowingValleyProgress>
    {
        public void Report(NarrowingValleyProgress value) => reports.Add(value);
    }
}
