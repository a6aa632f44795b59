using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Sparsity;

namespace Pipelines.Components.Tests.Sparsity;

[TestClass]
public sealed class SparseScalingLawTests
{
    private static readonly ScalingLawParameters Truth = new(E: 1.8, A: 400, Alpha: 0.34, B: 410, Beta: 0.28);

    private static ScalingRun[] DenseGrid(double[] sizes, double[] tokens) =>
        sizes.SelectMany(size => tokens.Select(count => ScalingRun.Dense(size, count, Truth.Predict(size, count)))).ToArray();

    [TestMethod]
    public void FitRecoversKnownParametersFromSyntheticRuns()
    {
        var runs = DenseGrid([1e6, 3e6, 1e7, 3e7, 1e8], [1e8, 3e8, 1e9, 3e9, 1e10]);
        var fit = SparseScalingLaw.Fit(runs, ScalingParameterCount.Final);
        var found = fit.Parameters;
        Assert.AreEqual(Truth.E, found.E, 0.01 * Truth.E, $"E: {found}");
        Assert.AreEqual(Truth.Alpha, found.Alpha, 0.02 * Truth.Alpha, $"alpha: {found}");
        Assert.AreEqual(Truth.Beta, found.Beta, 0.02 * Truth.Beta, $"beta: {found}");
        Assert.AreEqual(Truth.A, found.A, 0.1 * Truth.A, $"A: {found}");
        Assert.AreEqual(Truth.B, found.B, 0.1 * Truth.B, $"B: {found}");
        Assert.IsTrue(fit.RootMeanSquareLogError < 1e-4, $"rms log error {fit.RootMeanSquareLogError}");
        Assert.IsTrue(fit.MeanAbsoluteRelativeError < 1e-4, $"MARE {fit.MeanAbsoluteRelativeError}");
        Assert.IsTrue(fit.ConvergedStarts > 0);
    }

    [TestMethod]
    public void HeldOutLargerRunsArePredicted()
    {
        var training = DenseGrid([1e6, 3e6, 1e7, 3e7], [1e8, 3e8, 1e9, 3e9]);
        var heldOut = DenseGrid([1e8, 3e8], [1e9, 1e10]);
        var evaluation = SparseScalingLaw.EvaluateHeldOut(training, heldOut, ScalingParameterCount.Final);
        Assert.AreEqual(heldOut.Length, evaluation.Predictions.Count);
        Assert.IsTrue(evaluation.MeanAbsoluteRelativeError < 0.005, $"held-out MARE {evaluation.MeanAbsoluteRelativeError}");
        Assert.AreEqual(evaluation.Fit.Predict(heldOut[0]), evaluation.Predictions[0]);

        var threaded = SparseScalingLaw.Fit(training, ScalingParameterCount.Final, parallelism: new Pipelines.Components.Compute.Parallelism(2));
        Assert.AreEqual(evaluation.Fit, threaded, "the thread count does not change the fit");
    }

    [TestMethod]
    public void SparseRunsFollowingTheNbarLawAreFittedBetterInNbarThanInFinalN()
    {
        // Losses follow L(Nbar, D); the runs end at different sparsities, so N_final is not a fixed multiple of Nbar.
        var runs = new List<ScalingRun>();
        var sparsities = new[] { 0.0, 0.5, 0.8, 0.3, 0.6 };
        var index = 0;
        foreach (var size in new[] { 2e6, 6e6, 2e7, 6e7 })
        {
            foreach (var tokens in new[] { 2e8, 1e9, 5e9 })
            {
                var finalSparsity = sparsities[index++ % sparsities.Length];
                var average = size * (1 - 0.625 * finalSparsity);
                runs.Add(new ScalingRun(size * (1 - finalSparsity), average, tokens, Truth.Predict(average, tokens)));
            }
        }

        var inAverage = SparseScalingLaw.Fit(runs, ScalingParameterCount.Average);
        var inFinal = SparseScalingLaw.Fit(runs, ScalingParameterCount.Final);
        Assert.IsTrue(inAverage.RootMeanSquareLogError < 1e-4, $"Nbar fit rms {inAverage.RootMeanSquareLogError}");
        Assert.IsTrue(inFinal.RootMeanSquareLogError > 10 * inAverage.RootMeanSquareLogError, $"N fit rms {inFinal.RootMeanSquareLogError}");
        Assert.AreEqual(Truth.Alpha, inAverage.Parameters.Alpha, 0.02 * Truth.Alpha);
    }

    [TestMethod]
    public void BadInputThrowsNamingIt()
    {
        var runs = DenseGrid([1e6, 1e7], [1e8, 1e9, 1e10]);
        Assert.AreEqual("runs", Assert.ThrowsExactly<ArgumentException>(() => SparseScalingLaw.Fit(runs.Take(4).ToArray())).ParamName);
        var withBadLoss = runs.ToArray();
        withBadLoss[2] = withBadLoss[2] with { FinalLoss = double.NaN };
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => SparseScalingLaw.Fit(withBadLoss)).Message, "Run 2");
        Assert.AreEqual(nameof(ScalingLawFitOptions.HuberDelta),
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SparseScalingLaw.Fit(runs, options: new ScalingLawFitOptions { HuberDelta = 0 })).ParamName);
        Assert.AreEqual(nameof(ScalingLawFitOptions.ExponentStarts),
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SparseScalingLaw.Fit(runs, options: new ScalingLawFitOptions { ExponentStarts = [5.0] })).ParamName);
    }

    [TestMethod]
    public void RequiredFinalSparsityMatchesTheClosedFormAndTheStaircase()
    {
        // 1,000 prunable + 200 fixed matching a dense 825: mean sparsity 0.375 = 0.625 s_f, so s_f = 0.6.
        Assert.AreEqual(0.6, SparsityBudget.RequiredFinalSparsityContinuous(1000, 200, 825, SparsityScheduleKind.Cubic), 1e-12);
        Assert.AreEqual(0.375 / 0.75, SparsityBudget.RequiredFinalSparsityContinuous(1000, 200, 825, SparsityScheduleKind.OneShot), 1e-12);

        var fine = new PruningOptions { PruningInterval = 1, TotalSteps = 20_000 };
        Assert.AreEqual(0.6, SparsityBudget.RequiredFinalSparsity(1000, 200, 825, fine), 1e-3);

        var coarse = new PruningOptions { PruningInterval = 1000, TotalSteps = 10_000 };
        var staircase = SparsityBudget.RequiredFinalSparsity(1000, 200, 825, coarse);
        Assert.IsTrue(staircase > 0.6, $"a coarse staircase lags the continuous ramp, so it needs more: {staircase}");
        var achieved = SparsityBudget.MeanAppliedSparsity((coarse with { FinalSparsity = staircase }).CreateSchedule());
        Assert.AreEqual(825, SparsityBudget.ExpectedAverageParameterCount(1000, 200, achieved), 1e-6);

        Assert.AreEqual("targetAverageCount", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SparsityBudget.RequiredFinalSparsityContinuous(1000, 200, 100, SparsityScheduleKind.Cubic)).ParamName);
        Assert.AreEqual("targetAverageCount", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SparsityBudget.RequiredFinalSparsity(1000, 200, 1300, fine)).ParamName);
    }
}
