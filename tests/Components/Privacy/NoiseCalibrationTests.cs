using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Privacy;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>Noise for a budget (Opacus's 1.416) and steps for a budget, checked against the accountant.</summary>
[TestClass]
public sealed class NoiseCalibrationTests
{
    [TestMethod]
    public void MatchesOpacusKnownNoiseMultiplier()
    {
        var steps = NoiseCalibration.StepsForEpochs(90, 0.04);
        var sigma = NoiseCalibration.NoiseMultiplier(8, 1e-5, 0.04, steps);

        Assert.AreEqual(2250L, steps);
        Assert.AreEqual(1.416, sigma, 5e-5, "Opacus asserts 1.416 to 4 places");
        Assert.AreEqual(PrivacyGolden.Section("calibration").Number("sigma"), sigma, "the same bisection reaches the same dyadic sigma");
        var epsilon = RdpAccountant.Compute(sigma, 0.04, steps, 1e-5).Epsilon;
        Assert.IsTrue(epsilon <= 8 && 8 - epsilon <= NoiseCalibration.DefaultTolerance, $"epsilon {epsilon}");
    }

    [TestMethod]
    public void AnswerAlwaysMeetsTheBudgetWithinTheTolerance()
    {
        foreach (var (target, q, steps) in new[] { (0.5, 0.001, 1000L), (3.0, 0.01, 5000L), (10.0, 0.1, 100L), (1.0, 1.0, 1L) })
        {
            var sigma = NoiseCalibration.NoiseMultiplier(target, 1e-6, q, steps, tolerance: 0.001);
            var epsilon = RdpAccountant.Compute(sigma, q, steps, 1e-6).Epsilon;
            Assert.IsTrue(epsilon <= target && target - epsilon <= 0.001, $"target {target}: epsilon {epsilon} at sigma {sigma}");
        }
    }

    [TestMethod]
    public void MoreStepsOrAHistoryNeedMoreNoise()
    {
        var fresh = NoiseCalibration.NoiseMultiplier(4, 1e-5, 0.02, 1000, tolerance: 0.001);
        var longer = NoiseCalibration.NoiseMultiplier(4, 1e-5, 0.02, 2000, tolerance: 0.001);
        var history = new RdpAccountant([new PrivacyPhase(2.0, 0.02, 1000)]);
        var resumed = NoiseCalibration.NoiseMultiplier(4, 1e-5, 0.02, 1000, tolerance: 0.001, alreadySpent: history);

        Assert.IsTrue(longer > fresh);
        Assert.IsTrue(resumed > fresh);
        history.Step(resumed, 0.02, 1000);
        Assert.IsTrue(history.GetEpsilon(1e-5) <= 4);
    }

    [TestMethod]
    public void ClassicConversionNeedsMoreNoise()
    {
        var improved = NoiseCalibration.NoiseMultiplier(2, 1e-5, 0.01, 3000, tolerance: 0.001);
        var classic = NoiseCalibration.NoiseMultiplier(2, 1e-5, 0.01, 3000, tolerance: 0.001, conversion: EpsilonConversion.Classic);
        Assert.IsTrue(classic > improved);
    }

    [TestMethod]
    public void EnforceBudgetRaisesOnlyTooLittleNoise()
    {
        var history = new RdpAccountant([new PrivacyPhase(1.5, 0.02, 500)]);

        var generous = NoiseCalibration.EnforceBudget(3.0, history, 500, 0.02, targetEpsilon: 4, delta: 1e-5);
        var raised = NoiseCalibration.EnforceBudget(0.5, history, 500, 0.02, targetEpsilon: 4, delta: 1e-5);

        Assert.AreEqual(3.0, generous, "enough noise is left alone");
        Assert.IsTrue(raised > 0.5);
        history.Step(raised, 0.02, 500);
        var epsilon = history.GetEpsilon(1e-5);
        Assert.IsTrue(epsilon <= 4 && epsilon > 4 - NoiseCalibration.DefaultTolerance, $"projected epsilon {epsilon}");
        SubsampledGaussianRdpTests.AssertNames("remainingSteps", 0L, () => NoiseCalibration.EnforceBudget(1, history, 0, 0.02, 4, 1e-5));
        SubsampledGaussianRdpTests.AssertNames("proposedNoiseMultiplier", -1.0, () => NoiseCalibration.EnforceBudget(-1, history, 5, 0.02, 4, 1e-5));
    }

    [TestMethod]
    public void MaximumStepsIsTheLastStepWithinTheBudget()
    {
        var budget = RdpAccountant.Compute(1.5, 0.04, 2250, 1e-5).Epsilon;
        Assert.AreEqual(2250L, NoiseCalibration.MaximumSteps(budget, 1e-5, 1.5, 0.04));

        foreach (var (target, sigma, q) in new[] { (1.0, 1.1, 0.004), (8.0, 0.9, 0.05), (3.0, 2.5, 0.5) })
        {
            var steps = NoiseCalibration.MaximumSteps(target, 1e-5, sigma, q);
            Assert.IsTrue(steps > 0, $"target {target}");
            Assert.IsTrue(RdpAccountant.Compute(sigma, q, steps, 1e-5).Epsilon <= target);
            Assert.IsTrue(RdpAccountant.Compute(sigma, q, steps + 1, 1e-5).Epsilon > target);
        }
    }

    [TestMethod]
    public void MaximumStepsCountsTheHistoryAndTheEdges()
    {
        var history = new RdpAccountant([new PrivacyPhase(1.0, 0.01, 500)]);
        var fresh = NoiseCalibration.MaximumSteps(3, 1e-5, 1.0, 0.01);
        var afterHistory = NoiseCalibration.MaximumSteps(3, 1e-5, 1.0, 0.01, alreadySpent: history);
        Assert.AreEqual(fresh - 500, afterHistory, 1, "same settings: the history uses up its own steps (up to rounding at the edge)");

        Assert.AreEqual(0L, NoiseCalibration.MaximumSteps(3, 1e-5, 0, 0.01), "no noise: not one step");
        Assert.AreEqual(0L, NoiseCalibration.MaximumSteps(0.01, 1e-5, 1.0, 0.5), "a budget below one step's cost");
        Assert.AreEqual(long.MaxValue, NoiseCalibration.MaximumSteps(3, 1e-5, 1e200, 1e-300));
    }

    [TestMethod]
    public void UnreachableBudgetAndBadInputsNameTheParameter()
    {
        var spent = new RdpAccountant([new PrivacyPhase(0.3, 1, 100)]);
        SubsampledGaussianRdpTests.AssertNames("targetEpsilon", 1.0, () => NoiseCalibration.NoiseMultiplier(1, 1e-5, 0.1, 10, alreadySpent: spent));
        SubsampledGaussianRdpTests.AssertNames("targetEpsilon", 0.0, () => NoiseCalibration.NoiseMultiplier(0, 1e-5, 0.1, 10));
        SubsampledGaussianRdpTests.AssertNames("targetEpsilon", -1.0, () => NoiseCalibration.MaximumSteps(-1, 1e-5, 1, 0.1));
        SubsampledGaussianRdpTests.AssertNames("steps", 0L, () => NoiseCalibration.NoiseMultiplier(1, 1e-5, 0.1, 0));
        SubsampledGaussianRdpTests.AssertNames("tolerance", 0.0, () => NoiseCalibration.NoiseMultiplier(1, 1e-5, 0.1, 10, tolerance: 0));
        SubsampledGaussianRdpTests.AssertNames("samplingRate", 0.0, () => NoiseCalibration.StepsForEpochs(3, 0));
        SubsampledGaussianRdpTests.AssertNames("epochs", -3.0, () => NoiseCalibration.StepsForEpochs(-3, 0.1));
        SubsampledGaussianRdpTests.AssertNames("delta", 1.0, () => NoiseCalibration.MaximumSteps(1, 1, 1, 0.1));
        SubsampledGaussianRdpTests.AssertNames("delta", 0.01, () => NoiseCalibration.MaximumSteps(1, 0.01, 1, 0.1, datasetSize: 100));
        SubsampledGaussianRdpTests.AssertNames("delta", 0.001, () => NoiseCalibration.NoiseMultiplier(1, 0.001, 0.1, 10, datasetSize: 1000));
        SubsampledGaussianRdpTests.AssertNames("noiseMultiplier", -1.0, () => NoiseCalibration.MaximumSteps(1, 1e-5, -1, 0.1));
    }
}
