using System.Runtime.InteropServices;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Kernels;

[TestClass]
public sealed class LayerNormTests
{
    [TestMethod]
    public void NormalisesAKnownRow()
    {
        float[] input = [1f, 2f, 3f];
        float[] scale = [1f, 1f, 1f];
        float[] shift = [0f, 0f, 0f];
        var output = new float[3];
        var mean = new float[1];
        var reciprocal = new float[1];
        LayerNorm.Forward(input, scale, shift, output, mean, reciprocal, 1, 3, Parallelism.Sequential);
        Assert.AreEqual(-1.2247357f, output[0], 1e-5f);
        Assert.AreEqual(0f, output[1], 1e-6f);
        Assert.AreEqual(1.2247357f, output[2], 1e-5f);
        Assert.AreEqual(2f, mean[0], 1e-6f);
        Assert.AreEqual(1f / MathF.Sqrt(2f / 3f + 1e-5f), reciprocal[0], 1e-5f);

        float[] scaled = [2f, 2f, 2f];
        float[] shifted = [1f, 1f, 1f];
        LayerNorm.Reference.Forward(input, scaled, shifted, output, mean, reciprocal, 1, 3);
        Assert.AreEqual(1f - 2f * 1.2247357f, output[0], 1e-5f);
        Assert.AreEqual(1f, output[1], 1e-6f);
    }

    [TestMethod]
    public void BackwardMatchesFiniteDifferences()
    {
        const int rows = 3, channels = 7;
        var input = GradientCheck.RandomArray(rows * channels, seed: 1, scale: 2f);
        var scale = GradientCheck.RandomArray(channels, seed: 2);
        var shift = GradientCheck.RandomArray(channels, seed: 3);
        var weights = GradientCheck.RandomArray(rows * channels, seed: 4);
        var output = new float[rows * channels];
        var mean = new float[rows];
        var reciprocal = new float[rows];
        double Loss()
        {
            LayerNorm.Reference.Forward(input, scale, shift, output, mean, reciprocal, rows, channels);
            return GradientCheck.Dot(output, weights);
        }

        var numericalInput = GradientCheck.Numerical(Loss, input, epsilon: 1e-3);
        var numericalScale = GradientCheck.Numerical(Loss, scale, epsilon: 1e-3);
        var numericalShift = GradientCheck.Numerical(Loss, shift, epsilon: 1e-3);
        Loss();

        foreach (var fast in new[] { true, false })
        {
            var inputGradient = new float[rows * channels];
            var scaleGradient = new float[channels];
            var shiftGradient = new float[channels];
            if (fast) LayerNorm.Backward(weights, input, scale, mean, reciprocal, inputGradient, scaleGradient, shiftGradient, rows, channels, Parallelism.Sequential);
            else LayerNorm.Reference.Backward(weights, input, scale, mean, reciprocal, inputGradient, scaleGradient, shiftGradient, rows, channels);
            var name = fast ? "fast" : "reference";
            GradientCheck.AssertClose(numericalInput, inputGradient, $"{name} inputGradient");
            GradientCheck.AssertClose(numericalScale, scaleGradient, $"{name} scaleGradient");
            GradientCheck.AssertClose(numericalShift, shiftGradient, $"{name} shiftGradient");
        }
    }

    [TestMethod]
    [DataRow(1, 1, 1)]
    [DataRow(3, 7, 1)]
    [DataRow(3, 7, 2)]
    [DataRow(33, 33, 2)]
    [DataRow(9, 25, 1)]
    [DataRow(40, 24, 2)]
    [DataRow(5003, 7, 1)]
    [DataRow(5003, 7, 2)]
    [DataRow(1001, 257, 2)]
    public void FastMatchesReference(int rows, int channels, int threads)
    {
        var parallelism = new Parallelism(threads);
        var input = GradientCheck.RandomArray(rows * channels, seed: 5, scale: 3f);
        var scale = GradientCheck.RandomArray(channels, seed: 6);
        var shift = GradientCheck.RandomArray(channels, seed: 7);
        var outputGradient = GradientCheck.RandomArray(rows * channels, seed: 8);
        var (fastOutput, fastMean, fastReciprocal) = (new float[rows * channels], new float[rows], new float[rows]);
        var (referenceOutput, referenceMean, referenceReciprocal) = (new float[rows * channels], new float[rows], new float[rows]);
        LayerNorm.Forward(input, scale, shift, fastOutput, fastMean, fastReciprocal, rows, channels, parallelism);
        LayerNorm.Reference.Forward(input, scale, shift, referenceOutput, referenceMean, referenceReciprocal, rows, channels);
        GradientCheck.AssertClose(referenceMean, fastMean, "mean");
        GradientCheck.AssertClose(referenceReciprocal, fastReciprocal, "reciprocalStandardDeviation");
        GradientCheck.AssertClose(referenceOutput, fastOutput, "output", absolute: 1e-5);

        var fastInputGradient = GradientCheck.RandomArray(rows * channels, seed: 9);
        var fastScaleGradient = GradientCheck.RandomArray(channels, seed: 10);
        var fastShiftGradient = GradientCheck.RandomArray(channels, seed: 11);
        var referenceInputGradient = (float[])fastInputGradient.Clone();
        var referenceScaleGradient = (float[])fastScaleGradient.Clone();
        var referenceShiftGradient = (float[])fastShiftGradient.Clone();
        LayerNorm.Backward(outputGradient, input, scale, referenceMean, referenceReciprocal, fastInputGradient, fastScaleGradient, fastShiftGradient, rows, channels, parallelism);
        LayerNorm.Reference.Backward(outputGradient, input, scale, referenceMean, referenceReciprocal, referenceInputGradient, referenceScaleGradient, referenceShiftGradient, rows, channels);
        GradientCheck.AssertClose(referenceInputGradient, fastInputGradient, "inputGradient", absolute: 1e-5);
        // Column sums over thousands of rows, added in another order: float rounding grows with the row count.
        var sumTolerance = 1e-6 * rows;
        GradientCheck.AssertClose(referenceScaleGradient, fastScaleGradient, "scaleGradient", absolute: sumTolerance);
        GradientCheck.AssertClose(referenceShiftGradient, fastShiftGradient, "shiftGradient", absolute: sumTolerance);
    }

    [TestMethod]
    public void BackwardAccumulatesAndSkipsEmptyGradients()
    {
        const int rows = 5, channels = 7;
        var input = GradientCheck.RandomArray(rows * channels, seed: 12);
        var scale = GradientCheck.RandomArray(channels, seed: 13);
        var shift = GradientCheck.RandomArray(channels, seed: 14);
        var outputGradient = GradientCheck.RandomArray(rows * channels, seed: 15);
        var (output, mean, reciprocal) = (new float[rows * channels], new float[rows], new float[rows]);
        LayerNorm.Forward(input, scale, shift, output, mean, reciprocal, rows, channels, Parallelism.Sequential);

        var (freshInput, freshScale, freshShift) = (new float[rows * channels], new float[channels], new float[channels]);
        LayerNorm.Backward(outputGradient, input, scale, mean, reciprocal, freshInput, freshScale, freshShift, rows, channels, Parallelism.Sequential);
        var prefilledInput = GradientCheck.RandomArray(rows * channels, seed: 16);
        var prefilledScale = GradientCheck.RandomArray(channels, seed: 17);
        var prefilledShift = GradientCheck.RandomArray(channels, seed: 18);
        var (accumulatedInput, accumulatedScale, accumulatedShift) = ((float[])prefilledInput.Clone(), (float[])prefilledScale.Clone(), (float[])prefilledShift.Clone());
        LayerNorm.Backward(outputGradient, input, scale, mean, reciprocal, accumulatedInput, accumulatedScale, accumulatedShift, rows, channels, Parallelism.Sequential);
        AssertSum(prefilledInput, freshInput, accumulatedInput);
        AssertSum(prefilledScale, freshScale, accumulatedScale);
        AssertSum(prefilledShift, freshShift, accumulatedShift);

        // Frozen scale and shift: only the input gradient is computed, and it is the same.
        var inputOnly = new float[rows * channels];
        LayerNorm.Backward(outputGradient, input, scale, mean, reciprocal, inputOnly, [], [], rows, channels, Parallelism.Sequential);
        CollectionAssert.AreEqual(freshInput, inputOnly);
        var scaleOnly = new float[channels];
        LayerNorm.Backward(outputGradient, input, scale, mean, reciprocal, [], scaleOnly, [], rows, channels, Parallelism.Sequential);
        CollectionAssert.AreEqual(freshScale, scaleOnly);
    }

    [TestMethod]
    public void BadInputThrows()
    {
        var six = new float[6];
        var three = new float[3];
        var two = new float[2];
        Assert.AreEqual("rows", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => LayerNorm.Forward(six, three, three, six, two, two, 0, 3, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("channels", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => LayerNorm.Reference.Forward(six, three, three, six, two, two, 2, -1)).ParamName);
        Assert.AreEqual("scale", Assert.ThrowsExactly<ArgumentException>(() => LayerNorm.Forward(six, two, three, six, two, two, 2, 3, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("mean", Assert.ThrowsExactly<ArgumentException>(() => LayerNorm.Forward(six, three, three, six, three, two, 2, 3, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("scaleGradient", Assert.ThrowsExactly<ArgumentException>(() => LayerNorm.Backward(six, six, three, two, two, six, two, three, 2, 3, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("inputGradient", Assert.ThrowsExactly<ArgumentException>(() => LayerNorm.Reference.Backward(six, six, three, two, two, three, three, three, 2, 3)).ParamName);
    }

    [TestMethod]
    public void SameThreadCountGivesSameBits()
    {
        const int rows = 2048, channels = 33;
        var input = GradientCheck.RandomArray(rows * channels, seed: 19);
        var scale = GradientCheck.RandomArray(channels, seed: 20);
        var shift = GradientCheck.RandomArray(channels, seed: 21);
        var outputGradient = GradientCheck.RandomArray(rows * channels, seed: 22);
        float[] Run(int threads)
        {
            var parallelism = new Parallelism(threads);
            var (output, mean, reciprocal) = (new float[rows * channels], new float[rows], new float[rows]);
            var (inputGradient, scaleGradient, shiftGradient) = (new float[rows * channels], new float[channels], new float[channels]);
            LayerNorm.Forward(input, scale, shift, output, mean, reciprocal, rows, channels, parallelism);
            LayerNorm.Backward(outputGradient, input, scale, mean, reciprocal, inputGradient, scaleGradient, shiftGradient, rows, channels, parallelism);
            return [.. output, .. inputGradient, .. scaleGradient, .. shiftGradient];
        }

        var first = Run(2);
        Assert.IsTrue(MemoryMarshal.AsBytes(first.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(Run(2).AsSpan())), "two runs on two threads");
        // The column sums use fixed blocks of rows, so even the thread count does not change the bits.
        Assert.IsTrue(MemoryMarshal.AsBytes(first.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(Run(1).AsSpan())), "one thread against two");
    }

    private static void AssertSum(float[] prefilled, float[] fresh, float[] accumulated)
    {
        for (var index = 0; index < prefilled.Length; index++) Assert.AreEqual(prefilled[index] + fresh[index], accumulated[index], 1e-5f, $"index {index}");
    }
}
