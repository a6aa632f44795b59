using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Optimization;
using Pipelines.Components.Privacy;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>Gaussian noise sources, the noise transform, division by the expected batch size, and the DP chain end to end.</summary>
[TestClass]
public sealed class NoiseTests
{
    [TestMethod]
    public void SeededAndSecureSourcesAreStandardNormal()
    {
        foreach (var source in new IGaussianSource[] { new SeededGaussianSource(11), new SecureGaussianSource() })
        {
            const int count = 200_000;
            double sum = 0, squares = 0, beyondTwo = 0;
            for (var index = 0; index < count; index++)
            {
                var z = source.NextStandardNormal();
                sum += z;
                squares += z * z;
                if (Math.Abs(z) > 2) beyondTwo++;
            }

            // Standard errors: mean 1/sqrt(n) = 0.0022, variance sqrt(2/n) = 0.0032, tail rate 0.0005. Six of them.
            var name = source.GetType().Name;
            Assert.AreEqual(0, sum / count, 0.014, name);
            Assert.AreEqual(1, squares / count, 0.019, name);
            Assert.AreEqual(0.0455, beyondTwo / count, 0.003, name);
        }
    }

    [TestMethod]
    public void SecureNoiseRefusesASeedAndSeededNoiseNeedsOne()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => GaussianSources.Create(NoiseRandomness.Secure, 42));
        StringAssert.Contains(error.Message, "Secure noise takes no seed");
        Assert.AreEqual("seed", error.ParamName);
        Assert.ThrowsExactly<ArgumentException>(() => GaussianSources.Create(NoiseRandomness.Seeded, null));
        Assert.ThrowsExactly<ArgumentException>(() => new AddGaussianNoise(1, ClippingGroups.Flat(1), NoiseRandomness.Secure, seed: 42));
        Assert.ThrowsExactly<ArgumentException>(() => new AddGaussianNoise(1, ClippingGroups.Flat(1), NoiseRandomness.Seeded));
        Assert.IsInstanceOfType<SecureGaussianSource>(GaussianSources.Create(NoiseRandomness.Secure, null));
        SubsampledGaussianRdpTests.AssertNames("noiseMultiplier", -0.5, () => new AddGaussianNoise(-0.5, ClippingGroups.Flat(1), NoiseRandomness.Seeded, 1));
        SubsampledGaussianRdpTests.AssertNames("standardDeviation", -1.0, () => ((IGaussianSource)new SeededGaussianSource(1)).AddNoise(new float[2], -1));
    }

    [TestMethod]
    public void NoiseHasStandardDeviationSigmaTimesEachGroupsClipNorm()
    {
        var (arena, weight, bias) = PrivacyArena.Make(weightColumns: 40_000, biasLength: 40_000);
        var groups = ClippingGroups.PerGroup([1.0, 3.0], slice => slice.IsMatrix ? 0 : 1);
        var noise = new AddGaussianNoise(0.5, groups, NoiseRandomness.Seeded, seed: 5);
        var updates = new float[arena.BufferLength];

        noise.Update(updates, arena.Values, noise.Init(arena), new UpdateContext(1, arena.Parameters));

        // Standard error of a standard deviation from n = 40,000 samples: sd / sqrt(2n) = 0.35%; allow 2%.
        Assert.AreEqual(0.5, StandardDeviation(updates.AsSpan(weight.Offset, weight.Length)), 0.01);
        Assert.AreEqual(1.5, StandardDeviation(updates.AsSpan(bias.Offset, bias.Length)), 0.03);
        Assert.AreEqual(0.5 / Math.Sqrt(2), noise.EffectiveNoiseMultiplier, 1e-15);
    }

    [TestMethod]
    public void SeededNoiseDependsOnlyOnSeedAndStepAndSkipsSlicesOutsideTheContext()
    {
        var (arena, weight, bias) = PrivacyArena.Make(weightColumns: 8, biasLength: 4);
        var noise = new AddGaussianNoise(1, ClippingGroups.Flat(2), NoiseRandomness.Seeded, seed: 9);
        float[] Draw(long step, AddGaussianNoise transform)
        {
            var updates = new float[arena.BufferLength];
            transform.Update(updates, arena.Values, transform.Init(arena), new UpdateContext(step, [weight]));
            return updates;
        }

        CollectionAssert.AreEqual(Draw(3, noise), Draw(3, new AddGaussianNoise(1, ClippingGroups.Flat(2), NoiseRandomness.Seeded, seed: 9)));
        CollectionAssert.AreNotEqual(Draw(3, noise), Draw(4, noise));
        Assert.IsTrue(Draw(3, noise).AsSpan(bias.Offset, bias.Length).ToArray().All(value => value == 0), "the bias was not in the context");
        var secure = new AddGaussianNoise(1, ClippingGroups.Flat(2), NoiseRandomness.Secure);
        CollectionAssert.AreNotEqual(Draw(3, secure), Draw(3, secure), "secure noise is fresh every time");
    }

    [TestMethod]
    public void NoiseStateRecordsItsRandomnessInCheckpoints()
    {
        var (arena, _, _) = PrivacyArena.Make();
        var seeded = new AddGaussianNoise(1, ClippingGroups.Flat(1), NoiseRandomness.Seeded, 1).Init(arena);
        var secure = new AddGaussianNoise(1, ClippingGroups.Flat(1), NoiseRandomness.Secure).Init(arena);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) seeded.Write(writer);

        stream.Position = 0;
        using (var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true)) seeded.Read(reader);
        stream.Position = 0;
        using var mismatch = new BinaryReader(stream);
        Assert.ThrowsExactly<InvalidDataException>(() => secure.Read(mismatch));
    }

    [TestMethod]
    public void DivideByExpectedBatchSizeUsesQTimesN()
    {
        var (arena, weight, bias) = PrivacyArena.Make();
        var divide = new DivideByExpectedBatchSize(0.01, 1000);
        var updates = PrivacyArena.Gradient(arena, weight, bias, [10, -20], [5]);

        divide.Update(updates, arena.Values, divide.Init(arena), new UpdateContext(1, arena.Parameters));

        Assert.AreEqual(10.0, divide.ExpectedBatchSize, 1e-12);
        CollectionAssert.AreEqual(new[] { 1f, -2f, 0.5f }, new[] { updates[weight.Offset], updates[weight.Offset + 1], updates[bias.Offset] });
        SubsampledGaussianRdpTests.AssertNames("samplingRate", 0.0, () => _ = new DivideByExpectedBatchSize(0, 10));
        SubsampledGaussianRdpTests.AssertNames("datasetSize", 0, () => _ = new DivideByExpectedBatchSize(0.5, 0));
    }

    [TestMethod]
    public void DpStepWithoutNoiseIsTheClippedSumOverTheExpectedBatchSize()
    {
        var (arena, weight, bias) = PrivacyArena.Make();
        var groups = ClippingGroups.Flat(1);
        var clipped = new ClippedGradientSum(arena, groups);
        clipped.Add(PrivacyArena.Gradient(arena, weight, bias, [3, 4], [0]));
        clipped.Add(PrivacyArena.Gradient(arena, weight, bias, [0, 0.5f], [0.5f]));
        clipped.CopyTo(arena.Gradients);
        var optimizer = new GradientTransformOptimizer(
            new Chain(PrivacyTransforms.NoisyAverage(groups, 0, samplingRate: 0.5, datasetSize: 4, NoiseRandomness.Seeded, seed: 1), new ScaleByLearningRate(0.1)), arena);

        optimizer.Step(arena);

        // Sum = [3, 4]/(5 + 1e-6) + [0, 0.5] and bias 0.5 (norm 0.707, unclipped); divided by q N = 2; times -0.1.
        var factor = 1 / (5 + 1e-6);
        Assert.AreEqual(-0.1 * 3 * factor / 2, arena.Values[weight.Offset], 1e-7);
        Assert.AreEqual(-0.1 * (4 * factor + 0.5) / 2, arena.Values[weight.Offset + 1], 1e-7);
        Assert.AreEqual(-0.1 * 0.5 / 2, arena.Values[bias.Offset], 1e-7);
    }

    private static double StandardDeviation(ReadOnlySpan<float> values)
    {
        double sum = 0, squares = 0;
        foreach (var value in values)
        {
            sum += value;
            squares += (double)value * value;
        }

        var mean = sum / values.Length;
        return Math.Sqrt(squares / values.Length - mean * mean);
    }
}
