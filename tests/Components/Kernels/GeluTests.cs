using System.Runtime.InteropServices;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Kernels;

[TestClass]
public sealed class GeluTests
{
    [TestMethod]
    [DataRow(1f, 0.8411920f)]
    [DataRow(0f, 0f)]
    [DataRow(-1f, -0.1588080f)]
    [DataRow(3f, 2.9963626f)]
    [DataRow(-20f, 0f)]
    public void KnownValues(float x, float expected)
    {
        // 16 + 8 + 1 copies, so that the 512-bit, 256-bit and scalar paths all see the value.
        const int count = 25;
        var input = Enumerable.Repeat(x, count).ToArray();
        var fast = new float[count];
        var reference = new float[count];
        Gelu.Forward(input, fast, count, Parallelism.Sequential);
        Gelu.Reference.Forward(input, reference, count);
        foreach (var value in fast) Assert.AreEqual(expected, value, 2e-6f);
        foreach (var value in reference) Assert.AreEqual(expected, value, 2e-6f);
    }

    [TestMethod]
    public void BackwardMatchesFiniteDifferences()
    {
        const int count = 37;
        var input = GradientCheck.RandomArray(count, seed: 1, scale: 2f);
        var weights = GradientCheck.RandomArray(count, seed: 2);
        var output = new float[count];
        var numerical = GradientCheck.Numerical(() =>
        {
            Gelu.Reference.Forward(input, output, count);
            return GradientCheck.Dot(output, weights);
        }, input, epsilon: 1e-3);

        var fast = new float[count];
        Gelu.Backward(weights, input, fast, count, Parallelism.Sequential);
        GradientCheck.AssertClose(numerical, fast, "fast inputGradient");
        var reference = new float[count];
        Gelu.Reference.Backward(weights, input, reference, count);
        GradientCheck.AssertClose(numerical, reference, "reference inputGradient");
    }

    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(33, 1)]
    [DataRow(33, 2)]
    [DataRow(25, 1)]
    [DataRow(40_003, 1)]
    [DataRow(40_003, 2)]
    public void FastMatchesReference(int count, int threads)
    {
        var parallelism = new Parallelism(threads);
        var input = GradientCheck.RandomArray(count, seed: 3, scale: 3f);
        var outputGradient = GradientCheck.RandomArray(count, seed: 4);
        var fastOutput = new float[count];
        var referenceOutput = new float[count];
        Gelu.Forward(input, fastOutput, count, parallelism);
        Gelu.Reference.Forward(input, referenceOutput, count);
        GradientCheck.AssertClose(referenceOutput, fastOutput, "output");

        var fastGradient = GradientCheck.RandomArray(count, seed: 5);
        var referenceGradient = (float[])fastGradient.Clone();
        Gelu.Backward(outputGradient, input, fastGradient, count, parallelism);
        Gelu.Reference.Backward(outputGradient, input, referenceGradient, count);
        // Absolute slack for the O(1) terms added to the prefilled gradient, and for PyTorch's own form, whose
        // 1 − tanh² u cancels for |x| > 4 (the fast form is the more accurate one there).
        GradientCheck.AssertClose(referenceGradient, fastGradient, "inputGradient", absolute: 1e-5);
    }

    [TestMethod]
    public void BackwardAccumulates()
    {
        const int count = 33;
        var input = GradientCheck.RandomArray(count, seed: 6);
        var outputGradient = GradientCheck.RandomArray(count, seed: 7);
        var prefilled = GradientCheck.RandomArray(count, seed: 8);
        var fresh = new float[count];
        var accumulated = (float[])prefilled.Clone();
        Gelu.Backward(outputGradient, input, fresh, count, Parallelism.Sequential);
        Gelu.Backward(outputGradient, input, accumulated, count, Parallelism.Sequential);
        for (var index = 0; index < count; index++) Assert.AreEqual(prefilled[index] + fresh[index], accumulated[index], 1e-6f);
    }

    [TestMethod]
    public void LargeInputsSaturateWithoutNaN()
    {
        float[] input = [-1000f, -60f, -12f, -6f, 6f, 12f, 60f, 1000f, -30f, 30f, -9f, 9f, -5f, 5f, -45f, 45f, -8f];
        var output = new float[input.Length];
        var slope = new float[input.Length];
        Gelu.Forward(input, output, input.Length, Parallelism.Sequential);
        Gelu.Backward(Enumerable.Repeat(1f, input.Length).ToArray(), input, slope, input.Length, Parallelism.Sequential);
        for (var index = 0; index < input.Length; index++)
        {
            var positive = input[index] > 0;
            Assert.AreEqual(positive ? input[index] : 0f, output[index], 1e-5f * Math.Abs(input[index]), $"gelu({input[index]})");
            Assert.AreEqual(positive ? 1f : 0f, slope[index], 1e-5f, $"gelu'({input[index]})");
        }
    }

    [TestMethod]
    public void ForwardInPlace()
    {
        var values = GradientCheck.RandomArray(21, seed: 9);
        var expected = new float[21];
        Gelu.Forward(values, expected, 21, Parallelism.Sequential);
        Gelu.Forward(values, values, 21, Parallelism.Sequential);
        CollectionAssert.AreEqual(expected, values);
    }

    [TestMethod]
    public void BadInputThrows()
    {
        var three = new float[3];
        var four = new float[4];
        Assert.AreEqual("count", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Gelu.Forward(three, three, 0, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("output", Assert.ThrowsExactly<ArgumentException>(() => Gelu.Forward(three, four, 3, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("inputGradient", Assert.ThrowsExactly<ArgumentException>(() => Gelu.Backward(three, three, four, 3, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("input", Assert.ThrowsExactly<ArgumentException>(() => Gelu.Reference.Backward(three, four, three, 3)).ParamName);
    }

    [TestMethod]
    public void SameThreadCountGivesSameBits()
    {
        const int count = 50_001;
        var input = GradientCheck.RandomArray(count, seed: 10);
        var outputGradient = GradientCheck.RandomArray(count, seed: 11);
        float[] Run()
        {
            var output = new float[count];
            var inputGradient = new float[count];
            Gelu.Forward(input, output, count, new Parallelism(2));
            Gelu.Backward(outputGradient, input, inputGradient, count, new Parallelism(2));
            return [.. output, .. inputGradient];
        }

        Assert.IsTrue(MemoryMarshal.AsBytes(Run().AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(Run().AsSpan())));
    }

    [TestMethod]
    public void AnyThreadCountGivesTheSameBits()
    {
        // 100,003 elements: two or three chunks end mid-vector (50,001 and 33,334 are not multiples of 16), so the
        // scalar tails see values the one-thread run gives to vector lanes.
        const int count = 100_003;
        var input = GradientCheck.RandomArray(count, seed: 12, scale: 6f);
        var outputGradient = GradientCheck.RandomArray(count, seed: 13);
        float[] Run(int threads)
        {
            var output = new float[count];
            var inputGradient = new float[count];
            Gelu.Forward(input, output, count, new Parallelism(threads));
            Gelu.Backward(outputGradient, input, inputGradient, count, new Parallelism(threads));
            return [.. output, .. inputGradient];
        }

        var sequential = Run(1);
        foreach (var threads in new[] { 2, 3 })
            Assert.IsTrue(MemoryMarshal.AsBytes(sequential.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(Run(threads).AsSpan())), $"{threads} threads");
    }
}
