using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Privacy;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>Known epsilons (Opacus's test, TF-Privacy's tutorial table, the Python golden file), composition, the boundary warning.</summary>
[TestClass]
public sealed class RdpAccountantTests
{
    [TestMethod]
    public void MatchesOpacusKnownValue()
    {
        // Opacus's own accountant test: sigma 1.5, q 0.04, 90 epochs = 2250 steps, delta 1e-5 -> 7.32911117143.
        var accountant = new RdpAccountant();
        for (var step = 0; step < 2250; step++) accountant.Step(1.5, 0.04);

        var spent = accountant.GetPrivacySpent(1e-5);

        SubsampledGaussianRdpTests.AssertRelative(7.32911117143, spent.Epsilon, 1e-10, "Opacus sigma 1.5");
        Assert.AreEqual(3.9, spent.Order, 1e-12);
        Assert.IsFalse(spent.OptimalOrderAtBoundary);
        Assert.AreEqual(1, accountant.History.Count, "identical consecutive steps merge into one phase");
        Assert.AreEqual(2250L, accountant.TotalSteps);
    }

    [TestMethod]
    public void MatchesTensorFlowPrivacyTutorialWithTheClassicConversion()
    {
        // TF-Privacy's MNIST tutorial table (rounded to 2 decimals): batch 256 of 60,000.
        var q = 256.0 / 60000;
        var sixtyEpochs = RdpAccountant.Compute(1.12, q, 14062, 1e-5, EpsilonConversion.Classic);
        var fifteenEpochs = RdpAccountant.Compute(1.2, q, 2343, 1e-5, EpsilonConversion.Classic);

        Assert.AreEqual(2.92, sixtyEpochs.Epsilon, 0.005);
        Assert.AreEqual(1.20, fifteenEpochs.Epsilon, 0.005);
        Assert.IsTrue(RdpAccountant.Compute(1.12, q, 14062, 1e-5).Epsilon < sixtyEpochs.Epsilon, "the improved conversion is tighter");
    }

    [TestMethod]
    public void MatchesThePythonGoldenEpsilons()
    {
        foreach (var item in PrivacyGolden.Cases("epsilon"))
        {
            var conversion = item.GetProperty("conversion").GetString() == "classic" ? EpsilonConversion.Classic : EpsilonConversion.Improved;
            var spent = RdpAccountant.Compute(item.Number("sigma"), item.Number("q"), (long)item.Number("steps"), item.Number("delta"), conversion);
            SubsampledGaussianRdpTests.AssertRelative(item.Number("epsilon"), spent.Epsilon, 1e-9, $"case sigma {item.Number("sigma")}");
            Assert.AreEqual(item.Number("order"), spent.Order, 1e-12);
        }
    }

    [TestMethod]
    public void HeterogeneousHistoryMatchesThePythonGolden()
    {
        foreach (var item in PrivacyGolden.Cases("history"))
        {
            var accountant = new RdpAccountant();
            foreach (var phase in item.GetProperty("phases").EnumerateArray())
                accountant.Step(phase[0].GetDouble(), phase[1].GetDouble(), (long)phase[2].GetDouble());
            var conversion = item.GetProperty("conversion").GetString() == "classic" ? EpsilonConversion.Classic : EpsilonConversion.Improved;

            var spent = accountant.GetPrivacySpent(item.Number("delta"), conversion);

            Assert.AreEqual(3, accountant.History.Count);
            SubsampledGaussianRdpTests.AssertRelative(item.Number("epsilon"), spent.Epsilon, 1e-9, $"history, {conversion}");
            Assert.AreEqual(item.Number("order"), spent.Order, 1e-12);
        }
    }

    [TestMethod]
    public void HeterogeneousHistoryAddsThePhasesRdp()
    {
        var accountant = new RdpAccountant();
        accountant.Step(1.0, 0.01, 300);
        accountant.Step(2.0, 0.05, 100);
        accountant.Step(1.0, 0.01, 50);
        var reversed = new RdpAccountant([new PrivacyPhase(1.0, 0.01, 50), new PrivacyPhase(2.0, 0.05, 100), new PrivacyPhase(1.0, 0.01, 300)]);

        var total = accountant.Rdp();
        var first = SubsampledGaussianRdp.Compose(1.0, 0.01, 350, RdpOrders.Default);
        var second = SubsampledGaussianRdp.Compose(2.0, 0.05, 100, RdpOrders.Default);
        for (var index = 0; index < total.Length; index++) Assert.AreEqual(first[index] + second[index], total[index], 1e-12 * total[index]);

        Assert.AreEqual(3, accountant.History.Count);
        Assert.AreEqual(accountant.GetEpsilon(1e-5), reversed.GetEpsilon(1e-5), 1e-12, "composition does not depend on the order of phases");
        Assert.IsTrue(accountant.GetEpsilon(1e-5) > RdpAccountant.Compute(1.0, 0.01, 350, 1e-5).Epsilon);
        Assert.IsTrue(accountant.GetEpsilon(1e-5) > RdpAccountant.Compute(2.0, 0.05, 100, 1e-5).Epsilon);
    }

    [TestMethod]
    public void EpsilonGrowsWithStepsAndSamplingAndShrinksWithNoiseAndDelta()
    {
        double previous = 0;
        foreach (var steps in new long[] { 1, 10, 100, 1000, 10000 })
        {
            var epsilon = RdpAccountant.Compute(1.0, 0.01, steps, 1e-5).Epsilon;
            Assert.IsTrue(epsilon > previous, $"steps {steps}");
            previous = epsilon;
        }

        previous = double.PositiveInfinity;
        foreach (var sigma in new[] { 0.5, 0.7, 1.0, 1.5, 3.0, 10.0 })
        {
            var epsilon = RdpAccountant.Compute(sigma, 0.01, 1000, 1e-5).Epsilon;
            Assert.IsTrue(epsilon < previous, $"sigma {sigma}");
            previous = epsilon;
        }

        Assert.IsTrue(RdpAccountant.Compute(1.0, 0.02, 1000, 1e-5).Epsilon > RdpAccountant.Compute(1.0, 0.01, 1000, 1e-5).Epsilon);
        Assert.IsTrue(RdpAccountant.Compute(1.0, 0.01, 1000, 1e-7).Epsilon > RdpAccountant.Compute(1.0, 0.01, 1000, 1e-5).Epsilon);
    }

    [TestMethod]
    public void ConversionsFollowTheirFormulasAtOneOrder()
    {
        var improved = RdpConversion.Epsilon(0.5, 4, 1e-5, EpsilonConversion.Improved);
        var classic = RdpConversion.Epsilon(0.5, 4, 1e-5, EpsilonConversion.Classic);
        Assert.AreEqual(0.5 + Math.Log(3.0 / 4) - (Math.Log(1e-5) + Math.Log(4)) / 3, improved, 1e-14);
        Assert.AreEqual(0.5 + Math.Log(1e5) / 3, classic, 1e-14);
        Assert.IsTrue(improved < classic);
    }

    [TestMethod]
    public void FlagsAnOptimumAtEitherEndOfTheOrders()
    {
        var tinySpend = RdpAccountant.Compute(50, 0.001, 1, 1e-5);
        var hugeSpend = RdpAccountant.Compute(0.5, 1, 1000, 1e-5);
        var interior = RdpAccountant.Compute(1.5, 0.04, 2250, 1e-5);

        Assert.AreEqual(OrderBoundary.Largest, tinySpend.Boundary);
        Assert.AreEqual(63.0, tinySpend.Order);
        Assert.AreEqual(OrderBoundary.Smallest, hugeSpend.Boundary);
        Assert.AreEqual(1.1, hugeSpend.Order);
        Assert.AreEqual(OrderBoundary.None, interior.Boundary);
        StringAssert.Contains(tinySpend.ToString(), "warning");
        Assert.IsFalse(interior.ToString().Contains("warning", StringComparison.Ordinal));
    }

    [TestMethod]
    public void NoNoiseMeansInfiniteEpsilonAndNoStepsSpendsOnlyTheConversionCost()
    {
        var noiseless = RdpAccountant.Compute(0, 0.1, 10, 1e-5);
        Assert.AreEqual(double.PositiveInfinity, noiseless.Epsilon);
        Assert.IsTrue(double.IsNaN(noiseless.Order));
        Assert.AreEqual(0L, new RdpAccountant([new PrivacyPhase(0, 0.1, 0)]).TotalSteps);
        Assert.IsTrue(new RdpAccountant().GetEpsilon(1e-5) < 0.2, "with RDP 0 the epsilon is the conversion's own cost");
    }

    [TestMethod]
    public void DefaultOrdersAreTheUsualGrid()
    {
        var orders = RdpOrders.Default;
        Assert.AreEqual(151, orders.Count);
        Assert.AreEqual(1.1, orders[0]);
        Assert.AreEqual(1.3, orders[2]);
        Assert.AreEqual(10.9, orders[98]);
        Assert.AreEqual(12.0, orders[99]);
        Assert.AreEqual(63.0, orders[^1]);
    }

    [TestMethod]
    public void FractionalSeriesIsFastEnoughForCalibration()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        RdpAccountant.Compute(0.5, 0.01, 1000, 1e-5);
        Assert.IsTrue(watch.Elapsed < TimeSpan.FromSeconds(5), $"one epsilon over the default orders took {watch.Elapsed}");
    }
}
