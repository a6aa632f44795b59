using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Privacy;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>Per-example clipping against hand-computed values, flat and per group, and the effective noise multiplier.</summary>
[TestClass]
public sealed class ClippingTests
{
    [TestMethod]
    public void ClipFactorIsMinOfOneAndNormRatioWithTheStabilizer()
    {
        Assert.AreEqual(1.0 / (5 + 1e-6), ClippedGradientSum.ClipFactor(5, 1), 1e-15);
        Assert.AreEqual(1.0, ClippedGradientSum.ClipFactor(0.5, 1));
        Assert.AreEqual(1.0, ClippedGradientSum.ClipFactor(0, 1));
        Assert.AreEqual(1.0 / (1 + 1e-6), ClippedGradientSum.ClipFactor(1, 1), 1e-15, "a gradient exactly at the norm is scaled by the stabilizer");
    }

    [TestMethod]
    public void FlatClippingSumsClippedGradients()
    {
        var (arena, weight, bias) = PrivacyArena.Make();
        var sum = new ClippedGradientSum(arena, ClippingGroups.Flat(6.5));
        var norms = new double[1];

        sum.Add(PrivacyArena.Gradient(arena, weight, bias, [3, 4], [12]), norms);
        Assert.AreEqual(13.0, norms[0], 1e-12);
        sum.Add(PrivacyArena.Gradient(arena, weight, bias, [0.3f, 0.4f], [0]), norms);
        Assert.AreEqual(0.5, norms[0], 1e-7);

        var factor = 6.5 / (13 + 1e-6);
        var total = sum.Sum;
        Assert.AreEqual(3 * factor + 0.3, total[weight.Offset], 1e-6);
        Assert.AreEqual(4 * factor + 0.4, total[weight.Offset + 1], 1e-6);
        Assert.AreEqual(12 * factor, total[bias.Offset], 1e-6);
        Assert.AreEqual(2, sum.ExampleCount);
        Assert.AreEqual(1, sum.ClippedCount);

        sum.Clear();
        Assert.AreEqual(0, sum.ExampleCount);
        Assert.IsTrue(sum.Sum.ToArray().All(value => value == 0));
    }

    [TestMethod]
    public void PerGroupClippingScalesEachGroupOnItsOwn()
    {
        var (arena, weight, bias) = PrivacyArena.Make();
        var groups = ClippingGroups.PerGroup([1.0, 100.0], slice => slice.IsMatrix ? 0 : 1);
        var sum = new ClippedGradientSum(arena, groups);
        var norms = new double[2];

        sum.Add(PrivacyArena.Gradient(arena, weight, bias, [3, 4], [12]), norms);

        CollectionAssert.AreEqual(new[] { 5.0, 12.0 }, norms);
        Assert.AreEqual(3 / (5 + 1e-6), sum.Sum[weight.Offset], 1e-7);
        Assert.AreEqual(4 / (5 + 1e-6), sum.Sum[weight.Offset + 1], 1e-7);
        Assert.AreEqual(12f, sum.Sum[bias.Offset], "the bias group is under its norm");
        Assert.AreEqual(1, sum.ClippedCount);
    }

    [TestMethod]
    public void OnlyTrainableSlicesAreMeasuredAndSummed()
    {
        var (arena, weight, bias) = PrivacyArena.Make();
        var sum = new ClippedGradientSum(arena, ClippingGroups.Flat(10), [weight]);

        sum.Add(PrivacyArena.Gradient(arena, weight, bias, [3, 4], [12]));

        Assert.AreEqual(3f, sum.Sum[weight.Offset], "norm 5 without the frozen bias: not clipped");
        Assert.AreEqual(0f, sum.Sum[bias.Offset]);
        Assert.AreEqual(0, sum.ClippedCount);
    }

    [TestMethod]
    public void EffectiveNoiseMultiplierCombinesTheGroups()
    {
        Assert.AreEqual(0.5, ClippingGroups.EffectiveNoiseMultiplier([1.0, 1.0, 1.0, 1.0]), 1e-15);
        Assert.AreEqual(1 / Math.Sqrt(1 / 9.0 + 1 / 16.0), ClippingGroups.EffectiveNoiseMultiplier([3.0, 4.0]), 1e-15);
        Assert.AreEqual(0.0, ClippingGroups.EffectiveNoiseMultiplier([3.0, 0.0]), "a noiseless group leaves no privacy");
        Assert.AreEqual(2 / Math.Sqrt(3), ClippingGroups.PerGroup([1.0, 2.0, 3.0], _ => 0).EffectiveNoiseMultiplier(2), 1e-15);
        Assert.AreEqual(1.3, ClippingGroups.Flat(1).EffectiveNoiseMultiplier(1.3));
    }

    [TestMethod]
    public void BadClipNormsAndGroupsAreRefused()
    {
        SubsampledGaussianRdpTests.AssertNames("clipNorm", 0.0, () => ClippingGroups.Flat(0));
        SubsampledGaussianRdpTests.AssertNames("clipNorm", -1.0, () => ClippingGroups.Flat(-1));
        SubsampledGaussianRdpTests.AssertNames("clipNorm", double.NaN, () => ClippingGroups.Flat(double.NaN));
        SubsampledGaussianRdpTests.AssertNames("clipNorms[1]", -2.0, () => ClippingGroups.PerGroup([1.0, -2.0], _ => 0));
        SubsampledGaussianRdpTests.AssertNames("clipNorm", 0.0, () => ClippedGradientSum.ClipFactor(1, 0));
        SubsampledGaussianRdpTests.AssertNames("groupNoiseMultipliers[0]", -1.0, () => ClippingGroups.EffectiveNoiseMultiplier([-1.0]));

        var (arena, _, _) = PrivacyArena.Make();
        Assert.ThrowsExactly<InvalidOperationException>(() => new ClippedGradientSum(arena, ClippingGroups.PerGroup([1.0], _ => 1)));
        var sum = new ClippedGradientSum(arena, ClippingGroups.Flat(1));
        Assert.ThrowsExactly<ArgumentException>(() => sum.Add(new float[3]));
    }
}

/// <summary>A two-parameter arena (weight [1, 2], bias [1]) for the privacy tests.</summary>
internal static class PrivacyArena
{
    public static (ParameterArena Arena, ParameterSlice Weight, ParameterSlice Bias) Make(int weightColumns = 2, int biasLength = 1)
    {
        var builder = new ParameterArenaBuilder();
        var weight = builder.Add("layer.weight", ParameterRole.LinearWeight, 1, weightColumns);
        var bias = builder.Add("layer.bias", ParameterRole.LinearBias, biasLength);
        return (builder.Build(), weight, bias);
    }

    public static float[] Gradient(ParameterArena arena, ParameterSlice weight, ParameterSlice bias, float[] weightGradient, float[] biasGradient)
    {
        var gradient = new float[arena.BufferLength];
        weightGradient.CopyTo(gradient, weight.Offset);
        biasGradient.CopyTo(gradient, bias.Offset);
        return gradient;
    }
}
