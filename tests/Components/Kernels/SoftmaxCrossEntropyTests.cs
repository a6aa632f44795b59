using System.Runtime.InteropServices;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Kernels;

[TestClass]
public sealed class SoftmaxCrossEntropyTests
{
    [TestMethod]
    [DataRow(1)]
    [DataRow(33)]
    [DataRow(2048)]
    public void UniformLogitsGiveLogOfClassCount(int classCount)
    {
        var logits = Enumerable.Repeat(3.7f, 2 * classCount).ToArray();
        int[] targets = [0, classCount - 1];
        var probabilities = new float[2 * classCount];
        var losses = new float[2];
        SoftmaxCrossEntropy.Forward(logits, targets, probabilities, losses, 2, classCount, Parallelism.Sequential);
        Assert.AreEqual(MathF.Log(classCount), losses[0], 1e-5f);
        Assert.AreEqual(MathF.Log(classCount), losses[1], 1e-5f);
        foreach (var probability in probabilities) Assert.AreEqual(1f / classCount, probability, 1e-6f);
    }

    [TestMethod]
    public void HugeLogitsStayFinite()
    {
        float[] logits = [1000f, 0f, -1000f, 88f, 89f, 90f];
        int[] targets = [1, 2];
        var probabilities = new float[6];
        var losses = new float[2];
        SoftmaxCrossEntropy.Forward(logits, targets, probabilities, losses, 2, 3, Parallelism.Sequential);
        Assert.AreEqual(1000f, losses[0], 1e-3f);
        Assert.AreEqual(1f, probabilities[0]);
        // Row two: softmax of (−2, −1, 0); the target is the largest logit.
        var expected = MathF.Log(1f + MathF.Exp(-1f) + MathF.Exp(-2f));
        Assert.AreEqual(expected, losses[1], 1e-5f);
    }

    [TestMethod]
    public void BackwardMatchesFiniteDifferences()
    {
        const int rows = 4, classCount = 33;
        var logits = GradientCheck.RandomArray(rows * classCount, seed: 1, scale: 2f);
        int[] targets = [5, SoftmaxCrossEntropy.IgnoredTarget, 32, 0];
        var lossGradients = GradientCheck.RandomArray(rows, seed: 2);
        var probabilities = new float[rows * classCount];
        var losses = new float[rows];
        double Loss()
        {
            SoftmaxCrossEntropy.Reference.Forward(logits, targets, probabilities, losses, rows, classCount);
            return GradientCheck.Dot(losses, lossGradients);
        }

        var numerical = GradientCheck.Numerical(Loss, logits, epsilon: 1e-3);
        Loss();
        var fast = new float[rows * classCount];
        SoftmaxCrossEntropy.Backward(probabilities, targets, lossGradients, fast, rows, classCount, Parallelism.Sequential);
        GradientCheck.AssertClose(numerical, fast, "fast logitsGradient");
        var reference = new float[rows * classCount];
        SoftmaxCrossEntropy.Reference.Backward(probabilities, targets, lossGradients, reference, rows, classCount);
        GradientCheck.AssertClose(numerical, reference, "reference logitsGradient");
    }

    [TestMethod]
    [DataRow(1, 1, 1)]
    [DataRow(5, 33, 2)]
    [DataRow(3, 25, 1)]
    [DataRow(1001, 33, 1)]
    [DataRow(1001, 33, 2)]
    [DataRow(37, 2049, 2)]
    public void FastMatchesReference(int rows, int classCount, int threads)
    {
        var parallelism = new Parallelism(threads);
        var logits = GradientCheck.RandomArray(rows * classCount, seed: 3, scale: 4f);
        var random = new Random(4);
        var targets = Enumerable.Range(0, rows).Select(_ => random.Next(-1, classCount)).ToArray();
        var lossGradients = GradientCheck.RandomArray(rows, seed: 5);
        var (fastProbabilities, fastLosses) = (new float[rows * classCount], new float[rows]);
        var (referenceProbabilities, referenceLosses) = (new float[rows * classCount], new float[rows]);
        SoftmaxCrossEntropy.Forward(logits, targets, fastProbabilities, fastLosses, rows, classCount, parallelism);
        SoftmaxCrossEntropy.Reference.Forward(logits, targets, referenceProbabilities, referenceLosses, rows, classCount);
        GradientCheck.AssertClose(referenceProbabilities, fastProbabilities, "probabilities");
        GradientCheck.AssertClose(referenceLosses, fastLosses, "losses", absolute: 1e-5);

        var fastGradient = GradientCheck.RandomArray(rows * classCount, seed: 6);
        var referenceGradient = (float[])fastGradient.Clone();
        SoftmaxCrossEntropy.Backward(referenceProbabilities, targets, lossGradients, fastGradient, rows, classCount, parallelism);
        SoftmaxCrossEntropy.Reference.Backward(referenceProbabilities, targets, lossGradients, referenceGradient, rows, classCount);
        GradientCheck.AssertClose(referenceGradient, fastGradient, "logitsGradient");
    }

    [TestMethod]
    public void IgnoredRowsHaveNoLossAndNoGradient()
    {
        const int rows = 3, classCount = 7;
        var logits = GradientCheck.RandomArray(rows * classCount, seed: 7);
        int[] targets = [SoftmaxCrossEntropy.IgnoredTarget, 3, SoftmaxCrossEntropy.IgnoredTarget];
        var probabilities = new float[rows * classCount];
        var losses = new float[rows];
        SoftmaxCrossEntropy.Forward(logits, targets, probabilities, losses, rows, classCount, Parallelism.Sequential);
        Assert.AreEqual(0f, losses[0]);
        Assert.AreEqual(0f, losses[2]);
        Assert.IsTrue(losses[1] > 0f);
        Assert.AreEqual(1f, probabilities.AsSpan(0, classCount).ToArray().Sum(), 1e-5f, "ignored rows still get probabilities");

        var prefilled = GradientCheck.RandomArray(rows * classCount, seed: 8);
        var gradient = (float[])prefilled.Clone();
        SoftmaxCrossEntropy.Backward(probabilities, targets, [1f, 1f, 1f], gradient, rows, classCount, Parallelism.Sequential);
        CollectionAssert.AreEqual(prefilled.AsSpan(0, classCount).ToArray(), gradient.AsSpan(0, classCount).ToArray());
        CollectionAssert.AreEqual(prefilled.AsSpan(2 * classCount).ToArray(), gradient.AsSpan(2 * classCount).ToArray());
    }

    [TestMethod]
    public void BackwardAccumulates()
    {
        const int rows = 3, classCount = 7;
        var logits = GradientCheck.RandomArray(rows * classCount, seed: 9);
        int[] targets = [1, 6, 0];
        var lossGradients = GradientCheck.RandomArray(rows, seed: 10);
        var probabilities = new float[rows * classCount];
        SoftmaxCrossEntropy.Forward(logits, targets, probabilities, new float[rows], rows, classCount, Parallelism.Sequential);
        var fresh = new float[rows * classCount];
        SoftmaxCrossEntropy.Backward(probabilities, targets, lossGradients, fresh, rows, classCount, Parallelism.Sequential);
        var prefilled = GradientCheck.RandomArray(rows * classCount, seed: 11);
        var accumulated = (float[])prefilled.Clone();
        SoftmaxCrossEntropy.Backward(probabilities, targets, lossGradients, accumulated, rows, classCount, Parallelism.Sequential);
        for (var index = 0; index < accumulated.Length; index++) Assert.AreEqual(prefilled[index] + fresh[index], accumulated[index], 1e-6f);
        // Each row of dloss·(p − onehot) sums to zero.
        for (var row = 0; row < rows; row++) Assert.AreEqual(0f, fresh.AsSpan(row * classCount, classCount).ToArray().Sum(), 1e-6f);
    }

    [TestMethod]
    public void BadInputThrows()
    {
        var six = new float[6];
        var two = new float[2];
        var outOfRange = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SoftmaxCrossEntropy.Forward(six, [0, 3], six, two, 2, 3, Parallelism.Sequential));
        Assert.AreEqual("targets", outOfRange.ParamName);
        StringAssert.Contains(outOfRange.Message, "targets[1] = 3");
        var negative = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SoftmaxCrossEntropy.Reference.Backward(six, [-2, 0], two, six, 2, 3));
        Assert.AreEqual("targets", negative.ParamName);
        StringAssert.Contains(negative.Message, "targets[0] = -2");
        Assert.AreEqual("classCount", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SoftmaxCrossEntropy.Forward(six, [0, 0], six, two, 2, 0, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("losses", Assert.ThrowsExactly<ArgumentException>(() => SoftmaxCrossEntropy.Forward(six, [0, 0], six, six, 2, 3, Parallelism.Sequential)).ParamName);
        Assert.AreEqual("lossGradients", Assert.ThrowsExactly<ArgumentException>(() => SoftmaxCrossEntropy.Backward(six, [0, 0], six, six, 2, 3, Parallelism.Sequential)).ParamName);
    }

    [TestMethod]
    public void SameThreadCountGivesSameBits()
    {
        const int rows = 257, classCount = 513;
        var logits = GradientCheck.RandomArray(rows * classCount, seed: 12, scale: 3f);
        var targets = Enumerable.Range(0, rows).Select(row => row * 7 % classCount).ToArray();
        var lossGradients = Enumerable.Repeat(1f / rows, rows).ToArray();
        float[] Run()
        {
            var (probabilities, losses, gradient) = (new float[rows * classCount], new float[rows], new float[rows * classCount]);
            SoftmaxCrossEntropy.Forward(logits, targets, probabilities, losses, rows, classCount, new Parallelism(2));
            SoftmaxCrossEntropy.Backward(probabilities, targets, lossGradients, gradient, rows, classCount, new Parallelism(2));
            return [.. probabilities, .. losses, .. gradient];
        }

        Assert.IsTrue(MemoryMarshal.AsBytes(Run().AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(Run().AsSpan())));
    }
}
