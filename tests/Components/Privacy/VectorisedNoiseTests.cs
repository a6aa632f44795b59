using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Privacy;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>The vectorised <see cref="SeededGaussianSource.AddNoise"/> draws what one <see cref="SeededGaussianSource.NextStandardNormal"/> per value draws.</summary>
[TestClass]
public sealed class VectorisedNoiseTests
{
    [TestMethod]
    [DataRow(1)]
    [DataRow(511)]
    [DataRow(1300)]
    public void SpanNoiseEqualsOneSamplePerValue(int length)
    {
        var (vectorised, scalar) = (SeededGaussianSource.ForStep(5, 3), SeededGaussianSource.ForStep(5, 3));
        var values = Enumerable.Range(0, length).Select(index => index * 0.25f).ToArray();
        var expected = values.Select(value => (float)(value + 0.7 * scalar.NextStandardNormal())).ToArray();
        vectorised.AddNoise(values, 0.7);

        for (var index = 0; index < length; index++)
            Assert.AreEqual(expected[index], values[index], 1e-6f * Math.Max(1f, Math.Abs(expected[index])), $"value {index}");
        Assert.AreEqual(scalar.Random.State, vectorised.Random.State, "the generator ends where one call per value leaves it");
        Assert.AreEqual("standardDeviation", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => vectorised.AddNoise(values, -1)).ParamName);
    }
}
