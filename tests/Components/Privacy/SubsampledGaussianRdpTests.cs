using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Privacy;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>Per-step RDP against a quadrature of its definition and an independent Python series; special cases; monotonicity.</summary>
[TestClass]
public sealed class SubsampledGaussianRdpTests
{
    [TestMethod]
    public void MatchesTheIndependentPythonSeries()
    {
        foreach (var item in PrivacyGolden.Cases("rdp"))
        {
            var (sigma, q, order) = (item.Number("sigma"), item.Number("q"), item.Number("order"));
            var actual = SubsampledGaussianRdp.PerStep(sigma, q, order);
            var expected = item.Number("series");
            // Same formula, separate code: agreement to rounding, 1e-10 relative or 1e-15 absolute in log A.
            Assert.IsTrue(Math.Abs(actual / expected - 1) < 1e-10 || Math.Abs(actual - expected) * (order - 1) < 1e-15,
                $"sigma {sigma}, q {q}, order {order}: expected {expected:R}, got {actual:R}");
        }
    }

    [TestMethod]
    public void MatchesTheQuadratureOfTheDefinition()
    {
        // Simpson's rule on E[(mu/mu0)^alpha] loses ~1e-14 absolutely in log A, which is what bounds the agreement.
        foreach (var item in PrivacyGolden.Cases("rdp"))
        {
            var (sigma, q, order) = (item.Number("sigma"), item.Number("q"), item.Number("order"));
            var actual = SubsampledGaussianRdp.PerStep(sigma, q, order);
            var expected = item.Number("integral");
            var absoluteLogAError = Math.Abs(actual - expected) * (order - 1);
            Assert.IsTrue(absoluteLogAError < 1e-12 || Math.Abs(actual / expected - 1) < 1e-9,
                $"sigma {sigma}, q {q}, order {order}: expected {expected:R}, got {actual:R}");
        }
    }

    [TestMethod]
    public void FractionalOrdersJoinTheIntegerOnesContinuously()
    {
        foreach (var (sigma, q) in new[] { (1.5, 0.04), (0.9, 0.2), (4.0, 0.001) })
        {
            for (var order = 2; order <= 12; order += 5)
            {
                var atInteger = SubsampledGaussianRdp.PerStep(sigma, q, order);
                var justAbove = SubsampledGaussianRdp.PerStep(sigma, q, order + 1e-7);
                var justBelow = SubsampledGaussianRdp.PerStep(sigma, q, order - 1e-7);
                AssertRelative(atInteger, justAbove, 1e-5, $"above {order}");
                AssertRelative(atInteger, justBelow, 1e-5, $"below {order}");
                Assert.IsTrue(justBelow <= atInteger && atInteger <= justAbove, $"RDP must grow with the order at {order}");
            }
        }
    }

    [TestMethod]
    public void SpecialCasesFollowTheirFormulas()
    {
        Assert.AreEqual(0.0, SubsampledGaussianRdp.PerStep(1.3, 0, 2.5));
        Assert.AreEqual(double.PositiveInfinity, SubsampledGaussianRdp.PerStep(0, 0.1, 2.5));
        Assert.AreEqual(2.5 / (2 * 1.3 * 1.3), SubsampledGaussianRdp.PerStep(1.3, 1, 2.5), 1e-15);
        Assert.AreEqual(7 / (2 * 0.6 * 0.6), SubsampledGaussianRdp.PerStep(0.6, 1, 7), 1e-14);
    }

    [TestMethod]
    public void NearlyFullSamplingApproachesTheGaussianMechanism()
    {
        var full = SubsampledGaussianRdp.PerStep(2, 1, 3.5);
        var almost = SubsampledGaussianRdp.PerStep(2, 1 - 1e-9, 3.5);
        AssertRelative(full, almost, 1e-6, "q -> 1");
        var fullInteger = SubsampledGaussianRdp.PerStep(2, 1, 3);
        AssertRelative(fullInteger, SubsampledGaussianRdp.PerStep(2, 1 - 1e-9, 3), 1e-6, "q -> 1, integer order");
    }

    [TestMethod]
    public void GrowsWithSamplingRateAndOrderAndShrinksWithNoise()
    {
        var orders = new[] { 1.1, 1.5, 2, 2.5, 3, 4.5, 8, 16.5, 32, 63 };
        double previousOrderRdp = 0;
        foreach (var order in orders)
        {
            var rdp = SubsampledGaussianRdp.PerStep(1.1, 0.01, order);
            Assert.IsTrue(rdp > previousOrderRdp, $"order {order}");
            previousOrderRdp = rdp;
            Assert.IsTrue(SubsampledGaussianRdp.PerStep(1.1, 0.02, order) > rdp, $"q at order {order}");
            Assert.IsTrue(SubsampledGaussianRdp.PerStep(1.2, 0.01, order) < rdp, $"sigma at order {order}");
            // Subsampling only helps: never worse than the full-batch Gaussian mechanism.
            Assert.IsTrue(rdp <= order / (2 * 1.1 * 1.1), $"bounded by the Gaussian mechanism at {order}");
        }
    }

    [TestMethod]
    public void ComposeMultipliesByTheSteps()
    {
        var orders = new[] { 1.5, 2, 7.25 };
        var one = SubsampledGaussianRdp.Compose(1.0, 0.05, 1, orders);
        var many = SubsampledGaussianRdp.Compose(1.0, 0.05, 1000, orders);
        var none = SubsampledGaussianRdp.Compose(0, 0.05, 0, orders);
        for (var index = 0; index < orders.Length; index++)
        {
            Assert.AreEqual(1000 * one[index], many[index], 1e-12 * many[index]);
            Assert.AreEqual(0.0, none[index], "zero steps spend nothing, even without noise");
        }
    }

    [TestMethod]
    public void RejectsParametersOutOfRange()
    {
        AssertNames("noiseMultiplier", -0.1, () => SubsampledGaussianRdp.PerStep(-0.1, 0.1, 2));
        AssertNames("noiseMultiplier", double.NaN, () => SubsampledGaussianRdp.PerStep(double.NaN, 0.1, 2));
        AssertNames("samplingRate", 1.5, () => SubsampledGaussianRdp.PerStep(1, 1.5, 2));
        AssertNames("samplingRate", -0.01, () => SubsampledGaussianRdp.PerStep(1, -0.01, 2));
        AssertNames("order", 1.0, () => SubsampledGaussianRdp.PerStep(1, 0.1, 1));
        AssertNames("steps", -1L, () => SubsampledGaussianRdp.Compose(1, 0.1, -1, [2.0]));
        AssertNames("orders[1]", 0.5, () => SubsampledGaussianRdp.Compose(1, 0.1, 1, [2.0, 0.5]));
    }

    internal static void AssertRelative(double expected, double actual, double tolerance, string what)
    {
        var error = Math.Abs(actual - expected) / Math.Abs(expected);
        Assert.IsTrue(error <= tolerance, $"{what}: expected {expected:R}, got {actual:R} (relative error {error:E2})");
    }

    internal static void AssertNames(string parameter, object value, Action action)
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(action);
        Assert.AreEqual(parameter, error.ParamName);
        Assert.AreEqual(value, error.ActualValue);
        StringAssert.Contains(error.Message, parameter);
    }
}
