using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Privacy;

namespace Pipelines.Components.Tests.Privacy;

/// <summary><see cref="SeededGaussianSource.AddNoise"/>: Box-Muller pairs (cosine, sine) from the generator's uniforms, vectorised.</summary>
[TestClass]
public sealed class VectorisedNoiseTests
{
    [TestMethod]
    [DataRow(1)]
    [DataRow(511)]
    [DataRow(1300)]
    public void SpanNoiseIsBoxMullerOnTheGeneratorsUniforms(int length)
    {
        var source = SeededGaussianSource.ForStep(5, 3);
        var uniforms = new SeededRandom(source.Random.State);
        var values = Enumerable.Range(0, length).Select(index => index * 0.25f).ToArray();
        var expected = new float[length];
        for (var pair = 0; 2 * pair < length; pair++)
        {
            var radius = Math.Sqrt(-2.0 * Math.Log(1.0 - uniforms.NextDouble()));
            var angle = 2.0 * Math.PI * uniforms.NextDouble();
            expected[2 * pair] = (float)(values[2 * pair] + 0.7 * radius * Math.Cos(angle));
            if (2 * pair + 1 < length) expected[2 * pair + 1] = (float)(values[2 * pair + 1] + 0.7 * radius * Math.Sin(angle));
        }

        source.AddNoise(values, 0.7);
        for (var index = 0; index < length; index++)
            Assert.AreEqual(expected[index], values[index], 1e-6f * Math.Max(1f, Math.Abs(expected[index])), $"value {index}");
        Assert.AreEqual(uniforms.State, source.Random.State, "two uniforms per pair of values");
        Assert.AreEqual("standardDeviation", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => source.AddNoise(values, -1)).ParamName);
    }

    [TestMethod]
    public void SpanNoiseHasTheRightMomentsAndNoPairCorrelation()
    {
        const int count = 200_000;
        var values = new float[count];
        SeededGaussianSource.ForStep(11, 1).AddNoise(values, 2.0);
        var mean = values.Average(value => (double)value);
        var variance = values.Average(value => ((double)value - mean) * ((double)value - mean));
        double pairProduct = 0;
        for (var pair = 0; pair < count / 2; pair++) pairProduct += (double)values[2 * pair] * values[2 * pair + 1];
        var pairCorrelation = pairProduct / (count / 2) / variance;

        Assert.AreEqual(0, mean, 5 * 2 / Math.Sqrt(count), "mean");
        Assert.AreEqual(4, variance, 5 * 4 * Math.Sqrt(2.0 / count), "variance sigma^2");
        Assert.AreEqual(0, pairCorrelation, 5 / Math.Sqrt(count / 2), "the cosine and sine of a pair are independent");
    }
}
