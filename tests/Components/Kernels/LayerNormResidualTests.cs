using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Kernels;

/// <summary>
/// The blocks' layer-norm backward that joins the residual branch as it writes (<c>dx = residual + LN'(dy)</c>) gives the
/// bits of the public accumulating backward applied to a copy of the residual, and with no residual the bits of
/// accumulating into a cleared buffer, whatever the destination held.
/// </summary>
[TestClass]
public sealed class LayerNormResidualTests
{
    private static readonly Parallelism[] Settings = [Parallelism.Sequential, new(2), new(3)];

    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(5, 7)]
    [DataRow(33, 64)]
    [DataRow(130, 256)]
    public void ResidualIsAddedAsTheGradientIsWritten(int rows, int channels)
    {
        var (outputGradient, input, scale, mean, deviation) = Problem(rows, channels);
        var residual = GradientCheck.RandomArray(rows * channels, 6);
        foreach (var parallelism in Settings)
        {
            var expected = (float[])residual.Clone();
            var expectedScale = GradientCheck.RandomArray(channels, 7);
            var expectedShift = GradientCheck.RandomArray(channels, 8);
            LayerNorm.Backward(outputGradient, input, scale, mean, deviation, expected, expectedScale, expectedShift, rows, channels, parallelism);

            var actual = Filled(rows * channels, float.NaN);
            var actualScale = GradientCheck.RandomArray(channels, 7);
            var actualShift = GradientCheck.RandomArray(channels, 8);
            LayerNorm.Backward(outputGradient, input, scale, mean, deviation, residual, actual, actualScale, actualShift, rows, channels, parallelism);

            CollectionAssert.AreEqual(expected, actual, $"input gradient, {parallelism.ThreadCount} threads");
            CollectionAssert.AreEqual(expectedScale, actualScale, "the scale gradient still accumulates");
            CollectionAssert.AreEqual(expectedShift, actualShift, "the shift gradient still accumulates");
        }
    }

    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(33, 64)]
    public void NoResidualWritesTheGradientOverWhateverWasThere(int rows, int channels)
    {
        var (outputGradient, input, scale, mean, deviation) = Problem(rows, channels);
        foreach (var parallelism in Settings)
        {
            var expected = new float[rows * channels];
            LayerNorm.Backward(outputGradient, input, scale, mean, deviation, expected, [], [], rows, channels, parallelism);
            var actual = Filled(rows * channels, float.NaN);
            LayerNorm.Backward(outputGradient, input, scale, mean, deviation, ReadOnlySpan<float>.Empty, actual, [], [], rows, channels, parallelism);
            CollectionAssert.AreEqual(expected, actual, $"{parallelism.ThreadCount} threads");
        }
    }

    [TestMethod]
    public void AResidualOfTheWrongLengthIsRefusedByName()
    {
        var (outputGradient, input, scale, mean, deviation) = Problem(4, 8);
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            LayerNorm.Backward(outputGradient, input, scale, mean, deviation, new float[31], new float[32], [], [], 4, 8, Parallelism.Sequential));
        Assert.AreEqual("residualGradient", error.ParamName);
    }

    private static (float[] OutputGradient, float[] Input, float[] Scale, float[] Mean, float[] Deviation) Problem(int rows, int channels)
    {
        var input = GradientCheck.RandomArray(rows * channels, 1);
        var scale = GradientCheck.RandomArray(channels, 2);
        var shift = GradientCheck.RandomArray(channels, 3);
        var mean = new float[rows];
        var deviation = new float[rows];
        LayerNorm.Forward(input, scale, shift, new float[rows * channels], mean, deviation, rows, channels, Parallelism.Sequential);
        return (GradientCheck.RandomArray(rows * channels, 4), input, scale, mean, deviation);
    }

    private static float[] Filled(int length, float value) => Enumerable.Repeat(value, length).ToArray();
}
