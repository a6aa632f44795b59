using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Privacy;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>The options record: defaults, one check per setting, cross-checks against N, calibration.</summary>
[TestClass]
public sealed class DifferentialPrivacyOptionsTests
{
    [TestMethod]
    public void DefaultsAreTheDocumentedOnes()
    {
        var options = new DifferentialPrivacyOptions(0.01);
        Assert.AreEqual(0.01, options.SamplingRate);
        Assert.AreEqual(1.0, options.ClipNorm);
        Assert.AreEqual(1.0, options.NoiseMultiplier);
        Assert.AreEqual(1e-5, options.Delta);
        Assert.AreEqual(NoiseRandomness.Secure, options.Randomness);
        Assert.IsNull(options.Seed);
        Assert.AreEqual(EpsilonConversion.Improved, options.Conversion);
    }

    [TestMethod]
    public void EachBadSettingNamesItselfAndItsValue()
    {
        var options = new DifferentialPrivacyOptions(0.01);
        SubsampledGaussianRdpTests.AssertNames("SamplingRate", 0.0, () => _ = new DifferentialPrivacyOptions(0));
        SubsampledGaussianRdpTests.AssertNames("SamplingRate", 2.0, () => _ = options with { SamplingRate = 2 });
        SubsampledGaussianRdpTests.AssertNames("ClipNorm", 0.0, () => _ = options with { ClipNorm = 0 });
        SubsampledGaussianRdpTests.AssertNames("ClipNorm", -1.0, () => _ = options with { ClipNorm = -1 });
        SubsampledGaussianRdpTests.AssertNames("NoiseMultiplier", -0.1, () => _ = options with { NoiseMultiplier = -0.1 });
        SubsampledGaussianRdpTests.AssertNames("Delta", 0.0, () => _ = options with { Delta = 0 });
        SubsampledGaussianRdpTests.AssertNames("Delta", 1.0, () => _ = options with { Delta = 1 });
        SubsampledGaussianRdpTests.AssertNames("Delta", 1e-5, () => options.Validate(datasetSize: 100_000));
        SubsampledGaussianRdpTests.AssertNames("Delta", 1e-5, () => options.Guarantee(10, datasetSize: 100_000));
        SubsampledGaussianRdpTests.AssertNames("steps", -1L, () => options.Guarantee(-1, datasetSize: 1000));
        SubsampledGaussianRdpTests.AssertNames("targetEpsilon", -2.0, () => options.CalibratedFor(-2, 100, 1000));
        options.Validate(datasetSize: 99_999);
    }

    [TestMethod]
    public void SeedMustMatchTheRandomness()
    {
        var secureWithSeed = new DifferentialPrivacyOptions(0.1) { Seed = 3 };
        var seededWithoutSeed = new DifferentialPrivacyOptions(0.1) { Randomness = NoiseRandomness.Seeded };
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => secureWithSeed.NoisyAverage(100)).Message, "no seed");
        Assert.ThrowsExactly<ArgumentException>(() => seededWithoutSeed.Sampler(100));
        Assert.AreEqual(2, (seededWithoutSeed with { Seed = 3 }).NoisyAverage(100).Transforms.Count);
        Assert.AreEqual(10.0, new DifferentialPrivacyOptions(0.1).Sampler(100).ExpectedBatchSize, 1e-12);
    }

    [TestMethod]
    public void CalibrationSetsTheNoiseForTheBudget()
    {
        var options = new DifferentialPrivacyOptions(0.04).CalibratedFor(targetEpsilon: 8, steps: 2250, datasetSize: 60_000);
        Assert.AreEqual(1.416015625, options.NoiseMultiplier, "Opacus's 1.416");
        var guarantee = options.Guarantee(2250, 60_000);
        Assert.IsTrue(guarantee.Epsilon is <= 8 and > 7.99);
    }
}
