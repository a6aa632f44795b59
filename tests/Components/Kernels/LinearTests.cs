using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Kernels;

[TestClass]
public sealed class LinearTests
{
    [TestMethod]
    [DataRow(1, 1, 1, true)]
    [DataRow(3, 7, 17, true)]
    [DataRow(7, 33, 3, false)]
    [DataRow(65, 130, 33, true)]
    [DataRow(130, 17, 65, false)]
    public void ForwardMatchesReference(int rows, int inChannels, int outChannels, bool withBias)
    {
        var input = GradientCheck.RandomArray(rows * inChannels, 1);
        var weight = GradientCheck.RandomArray(outChannels * inChannels, 2);
        var bias = withBias ? GradientCheck.RandomArray(outChannels, 3) : [];
        var expected = new float[rows * outChannels];
        Linear.Reference.Forward(input, weight, bias, expected, rows, inChannels, outChannels);
        foreach (var threads in new[] { 1, 2 })
        {
            var actual = GradientCheck.RandomArray(rows * outChannels, 9); // forward overwrites
            Linear.Forward(input, weight, bias, actual, rows, inChannels, outChannels, new Parallelism(threads));
            GradientCheck.AssertClose(expected, actual, $"output (threads {threads})", relative: 1e-4, absolute: 1e-4);
        }
    }

    [TestMethod]
    [DataRow(300, 40, 300)]
    [DataRow(45, 500, 301)]
    [DataRow(13, 5, 37)]
    public void ForwardIsBroadcastBiasThenProductBitForBitForEveryThreadCount(int rows, int inChannels, int outChannels)
    {
        var input = GradientCheck.RandomArray(rows * inChannels, 1);
        var weight = GradientCheck.RandomArray(outChannels * inChannels, 2);
        var bias = GradientCheck.RandomArray(outChannels, 3);
        // What Forward computed before the bias moved into the product: C = bias in every row, then C += input · weightᵀ.
        var expected = new float[rows * outChannels];
        for (var row = 0; row < rows; row++) bias.CopyTo(expected, row * outChannels);
        Gemm.Multiply(input, inChannels, false, weight, inChannels, true, expected, outChannels, rows, outChannels, inChannels, 1f, 1f, Parallelism.Sequential);
        foreach (var threads in new[] { 1, 2, 3 })
        {
            var actual = new float[rows * outChannels];
            Array.Fill(actual, float.NaN);
            Linear.Forward(input, weight, bias, actual, rows, inChannels, outChannels, new Parallelism(threads));
            for (var index = 0; index < expected.Length; index++)
                Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[index]), BitConverter.SingleToInt32Bits(actual[index]), $"output[{index}] (threads {threads})");
        }
    }

    [TestMethod]
    [DataRow(300, 300)]
    [DataRow(1000, 97)]
    [DataRow(7, 9)]
    public void BiasGradientIsBitIdenticalForEveryThreadCount(int rows, int outChannels)
    {
        var outputGradient = GradientCheck.RandomArray(rows * outChannels, 1);
        var initialBias = GradientCheck.RandomArray(outChannels, 2);
        float[] expected = [.. initialBias];
        Linear.Backward(outputGradient, [], [], [], [], expected, rows, 1, outChannels, Parallelism.Sequential);
        foreach (var threads in new[] { 2, 3 })
        {
            float[] actual = [.. initialBias];
            Linear.Backward(outputGradient, [], [], [], [], actual, rows, 1, outChannels, new Parallelism(threads));
            for (var index = 0; index < expected.Length; index++)
                Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[index]), BitConverter.SingleToInt32Bits(actual[index]), $"biasGradient[{index}] (threads {threads})");
        }
    }

    [TestMethod]
    [DataRow(3, 7, 17)]
    [DataRow(65, 130, 33)]
    [DataRow(130, 17, 65)]
    public void BackwardMatchesReferenceAndAccumulates(int rows, int inChannels, int outChannels)
    {
        var outputGradient = GradientCheck.RandomArray(rows * outChannels, 1);
        var input = GradientCheck.RandomArray(rows * inChannels, 2);
        var weight = GradientCheck.RandomArray(outChannels * inChannels, 3);
        // Non-zero starting gradients: backward must add to them.
        var initialInput = GradientCheck.RandomArray(rows * inChannels, 4);
        var initialWeight = GradientCheck.RandomArray(outChannels * inChannels, 5);
        var initialBias = GradientCheck.RandomArray(outChannels, 6);
        float[] expectedInput = [.. initialInput], expectedWeight = [.. initialWeight], expectedBias = [.. initialBias];
        Linear.Reference.Backward(outputGradient, input, weight, expectedInput, expectedWeight, expectedBias, rows, inChannels, outChannels);
        foreach (var threads in new[] { 1, 2 })
        {
            float[] actualInput = [.. initialInput], actualWeight = [.. initialWeight], actualBias = [.. initialBias];
            Linear.Backward(outputGradient, input, weight, actualInput, actualWeight, actualBias, rows, inChannels, outChannels, new Parallelism(threads));
            GradientCheck.AssertClose(expectedInput, actualInput, $"inputGradient (threads {threads})", relative: 1e-4, absolute: 1e-4);
            GradientCheck.AssertClose(expectedWeight, actualWeight, $"weightGradient (threads {threads})", relative: 1e-4, absolute: 1e-4);
            GradientCheck.AssertClose(expectedBias, actualBias, $"biasGradient (threads {threads})", relative: 1e-4, absolute: 1e-4);
        }
    }

    [TestMethod]
    public void BackwardMatchesFiniteDifferences()
    {
        const int rows = 3, inChannels = 5, outChannels = 7;
        var input = GradientCheck.RandomArray(rows * inChannels, 11);
        var weight = GradientCheck.RandomArray(outChannels * inChannels, 12);
        var bias = GradientCheck.RandomArray(outChannels, 13);
        var lossWeights = GradientCheck.RandomArray(rows * outChannels, 14);
        var output = new float[rows * outChannels];
        double Loss()
        {
            Linear.Forward(input, weight, bias, output, rows, inChannels, outChannels, Parallelism.Sequential);
            return GradientCheck.Dot(output, lossWeights);
        }

        var inputGradient = new float[input.Length];
        var weightGradient = new float[weight.Length];
        var biasGradient = new float[bias.Length];
        Linear.Backward(lossWeights, input, weight, inputGradient, weightGradient, biasGradient, rows, inChannels, outChannels, Parallelism.Sequential);
        GradientCheck.AssertClose(GradientCheck.Numerical(Loss, input), inputGradient, "inputGradient");
        GradientCheck.AssertClose(GradientCheck.Numerical(Loss, weight), weightGradient, "weightGradient");
        GradientCheck.AssertClose(GradientCheck.Numerical(Loss, bias), biasGradient, "biasGradient");
    }

    [TestMethod]
    public void EmptyGradientSpansAreSkipped()
    {
        const int rows = 5, inChannels = 3, outChannels = 4;
        var outputGradient = GradientCheck.RandomArray(rows * outChannels, 1);
        var input = GradientCheck.RandomArray(rows * inChannels, 2);
        var weightGradient = new float[outChannels * inChannels];
        var expected = new float[outChannels * inChannels];
        // Neither weight nor ∂input nor ∂bias is needed: only ∂weight is computed.
        Linear.Backward(outputGradient, input, [], [], weightGradient, [], rows, inChannels, outChannels, Parallelism.Sequential);
        Linear.Reference.Backward(outputGradient, input, [], [], expected, [], rows, inChannels, outChannels);
        GradientCheck.AssertClose(expected, weightGradient, "weightGradient", relative: 1e-5, absolute: 1e-5);
        Assert.IsTrue(weightGradient.Any(value => value != 0));
    }

    [TestMethod]
    public void BadArgumentsThrowNamingTheParameter()
    {
        var input = new float[6];
        var weight = new float[12];
        var bias = new float[4];
        var output = new float[8];
        var one = Parallelism.Sequential;
        AssertParameter<ArgumentOutOfRangeException>("rows", () => Linear.Forward(input, weight, bias, output, -2, 3, 4, one));
        AssertParameter<ArgumentOutOfRangeException>("inChannels", () => Linear.Forward(input, weight, bias, output, 2, -3, 4, one));
        AssertParameter<ArgumentException>("input", () => Linear.Forward(input.AsSpan(1), weight, bias, output, 2, 3, 4, one));
        AssertParameter<ArgumentException>("weight", () => Linear.Forward(input, weight.AsSpan(1), bias, output, 2, 3, 4, one));
        AssertParameter<ArgumentException>("bias", () => Linear.Forward(input, weight, bias.AsSpan(1), output, 2, 3, 4, one));
        AssertParameter<ArgumentException>("output", () => Linear.Forward(input, weight, bias, output.AsSpan(1), 2, 3, 4, one));
        AssertParameter<ArgumentException>("output", () => Linear.Reference.Forward(input, weight, bias, output.AsSpan(1), 2, 3, 4));
        AssertParameter<ArgumentOutOfRangeException>("outChannels", () => Linear.Backward(output, input, weight, input, weight, bias, 2, 3, -4, one));
        AssertParameter<ArgumentException>("outputGradient", () => Linear.Backward(output.AsSpan(1), input, weight, input, weight, bias, 2, 3, 4, one));
        AssertParameter<ArgumentException>("weight", () => Linear.Backward(output, input, [], new float[6], [], [], 2, 3, 4, one));
        AssertParameter<ArgumentException>("input", () => Linear.Backward(output, [], weight, [], new float[12], [], 2, 3, 4, one));
        AssertParameter<ArgumentException>("biasGradient", () => Linear.Backward(output, input, weight, [], [], new float[3], 2, 3, 4, one));
    }

    private static void AssertParameter<TException>(string name, Action action) where TException : ArgumentException
    {
        var exception = Assert.ThrowsExactly<TException>(action);
        Assert.AreEqual(name, exception.ParamName);
    }
}
