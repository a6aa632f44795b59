using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Privacy;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>Saving and restoring the accountant: exact round trips, resumed runs, damaged states, and bad inputs to the accountant.</summary>
[TestClass]
public sealed class AccountantStateTests
{
    [TestMethod]
    public void JsonRoundTripIsBitExact()
    {
        var accountant = new RdpAccountant();
        accountant.Step(1.0 / 3, 0.1 + 0.2, 7);
        accountant.Step(Math.PI, 256.0 / 60000, 14062);
        accountant.Step(1.0 / 3, 0.1 + 0.2, long.MaxValue / 4);

        var restored = RdpAccountant.FromJson(accountant.ToJson());

        Assert.AreEqual(accountant.History.Count, restored.History.Count);
        for (var index = 0; index < accountant.History.Count; index++)
        {
            var (saved, loaded) = (accountant.History[index], restored.History[index]);
            Assert.AreEqual(BitConverter.DoubleToInt64Bits(saved.NoiseMultiplier), BitConverter.DoubleToInt64Bits(loaded.NoiseMultiplier));
            Assert.AreEqual(BitConverter.DoubleToInt64Bits(saved.SamplingRate), BitConverter.DoubleToInt64Bits(loaded.SamplingRate));
            Assert.AreEqual(saved.Steps, loaded.Steps);
            Assert.AreEqual(saved, loaded);
        }

        Assert.AreEqual(accountant.ToJson(), restored.ToJson());
    }

    [TestMethod]
    public void ResumedRunContinuesTheSameAccount()
    {
        var uninterrupted = new RdpAccountant();
        var firstHalf = new RdpAccountant();
        for (var step = 0; step < 300; step++)
        {
            var sigma = step < 200 ? 1.2 : 0.9;
            uninterrupted.Step(sigma, 0.02);
            if (step < 250) firstHalf.Step(sigma, 0.02);
        }

        var resumed = RdpAccountant.FromState(JsonSerializer.Deserialize<RdpAccountantState>(JsonSerializer.Serialize(firstHalf.ToState()))!);
        for (var step = 250; step < 300; step++) resumed.Step(0.9, 0.02);

        CollectionAssert.AreEqual(uninterrupted.History.ToArray(), resumed.History.ToArray(), "the resumed step merges into the restored phase");
        Assert.AreEqual(uninterrupted.GetEpsilon(1e-5), resumed.GetEpsilon(1e-5));
    }

    [TestMethod]
    public void DamagedStatesAreRefusedWithAReason()
    {
        Assert.ThrowsExactly<InvalidDataException>(() => RdpAccountant.FromJson("not json"));
        Assert.ThrowsExactly<InvalidDataException>(() => RdpAccountant.FromJson("null"));
        Assert.ThrowsExactly<InvalidDataException>(() => RdpAccountant.FromJson("""{"Version":2,"History":[]}"""));
        Assert.ThrowsExactly<InvalidDataException>(() => RdpAccountant.FromJson("""{"Version":1}"""));
        SubsampledGaussianRdpTests.AssertNames("SamplingRate", 1.5,
            () => RdpAccountant.FromJson("""{"Version":1,"History":[{"NoiseMultiplier":1,"SamplingRate":1.5,"Steps":3}]}"""));
        Assert.AreEqual(0, RdpAccountant.FromJson("""{"Version":1,"History":[]}""").History.Count);
    }

    [TestMethod]
    public void BadInputsNameTheParameterAndTheValue()
    {
        var accountant = new RdpAccountant();
        SubsampledGaussianRdpTests.AssertNames("noiseMultiplier", -1.0, () => accountant.Step(-1, 0.1));
        SubsampledGaussianRdpTests.AssertNames("noiseMultiplier", double.PositiveInfinity, () => accountant.Step(double.PositiveInfinity, 0.1));
        SubsampledGaussianRdpTests.AssertNames("samplingRate", 0.0, () => accountant.Step(1, 0));
        SubsampledGaussianRdpTests.AssertNames("samplingRate", 1.01, () => accountant.Step(1, 1.01));
        SubsampledGaussianRdpTests.AssertNames("samplingRate", double.NaN, () => accountant.Step(1, double.NaN));
        SubsampledGaussianRdpTests.AssertNames("steps", -5L, () => accountant.Step(1, 0.1, -5));
        Assert.AreEqual(0, accountant.History.Count, "a refused step records nothing");

        accountant.Step(1, 0.1, 10);
        SubsampledGaussianRdpTests.AssertNames("delta", 0.0, () => accountant.GetEpsilon(0));
        SubsampledGaussianRdpTests.AssertNames("delta", 1.0, () => accountant.GetEpsilon(1));
        SubsampledGaussianRdpTests.AssertNames("delta", -1e-5, () => accountant.GetEpsilon(-1e-5));
        SubsampledGaussianRdpTests.AssertNames("delta", 1e-3, () => accountant.GetEpsilon(1e-3, datasetSize: 1000));
        SubsampledGaussianRdpTests.AssertNames("datasetSize", 0L, () => accountant.GetEpsilon(1e-3, datasetSize: 0));
        Assert.IsTrue(double.IsFinite(accountant.GetEpsilon(0.99e-3, datasetSize: 1000)));
        SubsampledGaussianRdpTests.AssertNames("orders[0]", 1.0, () => accountant.GetEpsilon(1e-5, orders: [1.0, 2.0]));
        Assert.ThrowsExactly<ArgumentException>(() => accountant.GetEpsilon(1e-5, orders: []));
    }
}
