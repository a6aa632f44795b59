using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;

namespace Pipelines.Components.Tests.Kernels;

/// <summary>The models' overwrite variants equal the public accumulating kernels applied to a cleared destination, whatever the destination held.</summary>
[TestClass]
public sealed class OverwriteModeTests
{
    private static readonly Parallelism[] Settings = [Parallelism.Sequential, new(2), new(3)];

    [TestMethod]
    [DataRow(1, 1, 1)]
    [DataRow(7, 3, 5)]
    [DataRow(33, 17, 9)]
    public void LinearInputGradientIsOverwritten(int rows, int inChannels, int outChannels)
    {
        var outputGradient = Random(rows * outChannels, 1);
        var input = Random(rows * inChannels, 2);
        var weight = Random(outChannels * inChannels, 3);
        foreach (var parallelism in Settings)
        {
            var expected = new float[rows * inChannels];
            var expectedWeightGradient = Random(outChannels * inChannels, 4);
            Linear.Backward(outputGradient, input, weight, expected, expectedWeightGradient, [], rows, inChannels, outChannels, parallelism);
            var actual = Filled(rows * inChannels, float.NaN);
            var actualWeightGradient = Random(outChannels * inChannels, 4);
            Linear.Backward(outputGradient, input, weight, actual, actualWeightGradient, [], rows, inChannels, outChannels, parallelism, overwriteInputGradient: true);
            CollectionAssert.AreEqual(expected, actual, $"input gradient, {parallelism.ThreadCount} threads");
            CollectionAssert.AreEqual(expectedWeightGradient, actualWeightGradient, "the weight gradient still accumulates");
        }
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(7)]
    [DataRow(4099)]
    public void GeluInputGradientIsOverwritten(int count)
    {
        var outputGradient = Random(count, 5);
        var input = Random(count, 6);
        foreach (var parallelism in Settings)
        {
            var expected = new float[count];
            Gelu.Backward(outputGradient, input, expected, count, parallelism);
            var actual = Filled(count, float.NaN);
            Gelu.Backward(outputGradient, input, actual, count, parallelism, overwrite: true);
            CollectionAssert.AreEqual(expected, actual, $"{parallelism.ThreadCount} threads");
        }
    }

    [TestMethod]
    [DataRow(7)]
    [DataRow(4099)]
    public void GeluInputGradientMayReplaceTheOutputGradientInPlace(int count)
    {
        var outputGradient = Random(count, 5);
        var input = Random(count, 6);
        foreach (var parallelism in Settings)
        {
            var expected = new float[count];
            Gelu.Backward(outputGradient, input, expected, count, parallelism, overwrite: true);
            var inPlace = (float[])outputGradient.Clone();
            Gelu.Backward(inPlace, input, inPlace, count, parallelism, overwrite: true);
            CollectionAssert.AreEqual(expected, inPlace, $"{parallelism.ThreadCount} threads");
        }
    }

    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(3, 7)]
    [DataRow(33, 65)]
    public void SoftmaxCrossEntropyLogitsGradientIsOverwritten(int rows, int classCount)
    {
        var logits = Random(rows * classCount, 7);
        var targets = Enumerable.Range(0, rows).Select(row => row % 3 == 1 ? SoftmaxCrossEntropy.IgnoredTarget : row * 5 % classCount).ToArray();
        var probabilities = new float[rows * classCount];
        SoftmaxCrossEntropy.Forward(logits, targets, probabilities, new float[rows], rows, classCount, Parallelism.Sequential);
        var lossGradients = Random(rows, 8);
        foreach (var parallelism in Settings)
        {
            var expected = new float[rows * classCount];
            SoftmaxCrossEntropy.Backward(probabilities, targets, lossGradients, expected, rows, classCount, parallelism);
            var actual = Filled(rows * classCount, float.NaN);
            SoftmaxCrossEntropy.Backward(probabilities, targets, lossGradients, actual, rows, classCount, parallelism, overwrite: true);
            CollectionAssert.AreEqual(expected, actual, $"{parallelism.ThreadCount} threads");
        }
    }

    private static float[] Random(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    private static float[] Filled(int length, float value) => Enumerable.Repeat(value, length).ToArray();
}
