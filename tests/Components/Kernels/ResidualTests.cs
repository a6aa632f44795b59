using System.Runtime.InteropServices;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Kernels;

[TestClass]
public sealed class ResidualTests
{
    [TestMethod]
    public void AddsKnownValues()
    {
        float[] left = [1f, -2f, 0.5f];
        float[] right = [3f, 2f, 0.25f];
        var output = new float[3];
        Residual.Forward(left, right, output, 3, Parallelism.Sequential);
        CollectionAssert.AreEqual(new[] { 4f, 0f, 0.75f }, output);
        Residual.Forward(left, right, left, 3, Parallelism.Sequential);
        CollectionAssert.AreEqual(new[] { 4f, 0f, 0.75f }, left, "in place");
    }

    [TestMethod]
    public void BackwardMatchesFiniteDifferences()
    {
        const int count = 21;
        var left = GradientCheck.RandomArray(count, seed: 1);
        var right = GradientCheck.RandomArray(count, seed: 2);
        var weights = GradientCheck.RandomArray(count, seed: 3);
        var output = new float[count];
        double Loss()
        {
            Residual.Reference.Forward(left, right, output, count);
            return GradientCheck.Dot(output, weights);
        }

        var numericalLeft = GradientCheck.Numerical(Loss, left);
        var numericalRight = GradientCheck.Numerical(Loss, right);
        var (fastLeft, fastRight) = (new float[count], new float[count]);
        Residual.Backward(weights, fastLeft, fastRight, count, Parallelism.Sequential);
        GradientCheck.AssertClose(numericalLeft, fastLeft, "fast leftGradient");
        GradientCheck.AssertClose(numericalRight, fastRight, "fast rightGradient");
        var (referenceLeft, referenceRight) = (new float[count], new float[count]);
        Residual.Reference.Backward(weights, referenceLeft, referenceRight, count);
        GradientCheck.AssertClose(numericalLeft, referenceLeft, "reference leftGradient");
        GradientCheck.AssertClose(numericalRight, referenceRight, "reference rightGradient");
    }

    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(33, 2)]
    [DataRow(70_001, 1)]
    [DataRow(70_001, 2)]
    public void FastMatchesReference(int count, int threads)
    {
        var parallelism = new Parallelism(threads);
        var left = GradientCheck.RandomArray(count, seed: 4);
        var right = GradientCheck.RandomArray(count, seed: 5);
        var (fastOutput, referenceOutput) = (new float[count], new float[count]);
        Residual.Forward(left, right, fastOutput, count, parallelism);
        Residual.Reference.Forward(left, right, referenceOutput, count);
        GradientCheck.AssertClose(referenceOutput, fastOutput, "output");

        var outputGradient = GradientCheck.RandomArray(count, seed: 6);
        var fastLeft = GradientCheck.RandomArray(count, seed: 7);
        var fastRight = GradientCheck.RandomArray(count, seed: 8);
        var (referenceLeft, referenceRight) = ((float[])fastLeft.Clone(), (float[])fastRight.Clone());
        Residual.Backward(outputGradient, fastLeft, fastRight, count, parallelism);
        Residual.Reference.Backward(outputGradient, referenceLeft, referenceRight, count);
        GradientCheck.AssertClose(referenceLeft, fastLeft, "leftGradient");
        GradientCheck.AssertClose(referenceRight, fastRight, "rightGradient");
    }

    [TestMethod]
    public void BackwardAccumulatesAndSkipsEmptyGradients()
    {
        float[] outputGradient = [1f, 2f, 3f];
        float[] left = [10f, 20f, 30f];
        float[] right = [-1f, -1f, -1f];
        Residual.Backward(outputGradient, left, right, 3, Parallelism.Sequential);
        CollectionAssert.AreEqual(new[] { 11f, 22f, 33f }, left);
        CollectionAssert.AreEqual(new[] { 0f, 1f, 2f }, right);
        Residual.Backward(outputGradient, [], right, 3, Parallelism.Sequential);
        CollectionAssert.AreEqual(new[] { 1f, 3f, 5f }, right);
        Residual.Reference.Backward(outputGradient, left, [], 3);
        CollectionAssert.AreEqual(new[] { 12f, 24f, 36f }, left);
    }

    [TestMethod]
    public void BadInputThrows()
    {
        var three = new float[3];
        var two = new float[2];
        Assert.AreEqual("count", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Residual.Forward(three, three, three, -3, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("right", Assert.ThrowsExactly<ArgumentException>(() => Residual.Forward(three, two, three, 3, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("output", Assert.ThrowsExactly<ArgumentException>(() => Residual.Reference.Forward(three, three, two, 3)).ParamName);
        Assert.AreEqual("leftGradient", Assert.ThrowsExactly<ArgumentException>(() => Residual.Backward(three, two, three, 3, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("outputGradient", Assert.ThrowsExactly<ArgumentException>(() => Residual.Reference.Backward(two, three, three, 3)).ParamName);
    }

    [TestMethod]
    public void SameThreadCountGivesSameBits()
    {
        const int count = 70_001;
        var left = GradientCheck.RandomArray(count, seed: 9);
        var right = GradientCheck.RandomArray(count, seed: 10);
        float[] Run()
        {
            var output = new float[count];
            var leftGradient = (float[])right.Clone();
            Residual.Forward(left, right, output, count, new Parallelism(2));
            Residual.Backward(output, leftGradient, [], count, new Parallelism(2));
            return [.. output, .. leftGradient];
        }

        Assert.IsTrue(MemoryMarshal.AsBytes(Run().AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(Run().AsSpan())));
    }
}
