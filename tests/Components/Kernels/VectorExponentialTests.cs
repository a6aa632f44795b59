using System.Numerics;
using System.Runtime.Intrinsics;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Kernels;

namespace Pipelines.Components.Tests.Kernels;

[TestClass]
public sealed class VectorExponentialTests
{
    [TestMethod]
    public void IsWithinMeasured1Point01UlpOfDoubleExpOverMinus87To88()
    {
        // 2²⁴ + 1 evenly spaced points, through the 512-bit path (the lanes equal the scalar, tested below).
        const int steps = 1 << 24;
        const double low = -87, high = 88;
        var inputs = new float[steps + 1];
        for (var index = 0; index <= steps; index++) inputs[index] = (float)(low + (high - low) * index / steps);
        var outputs = new float[inputs.Length];
        ExpAll(inputs, outputs, VectorExponential.Exp, VectorExponential.Exp, VectorExponential.Exp);

        var worst = 0.0;
        var worstInput = 0f;
        for (var index = 0; index < inputs.Length; index++)
        {
            var exact = Math.Exp(inputs[index]);
            var error = Math.Abs(outputs[index] - exact) / Math.ScaleB(1.0, Math.ILogB(exact) - 23);
            if (error > worst) (worst, worstInput) = (error, inputs[index]);
        }

        Console.WriteLine($"largest error {worst:F3} ulp at x = {worstInput:R}");
        Assert.IsTrue(worst <= 1.1, $"largest error {worst:F3} ulp at x = {worstInput:R}; 1.008 ulp (at x = 26.728634) when written, and the docs promise under 2");
    }

    [TestMethod]
    [DataRow(float.NegativeInfinity)]
    [DataRow(float.MinValue)]
    [DataRow(-1000f)]
    [DataRow(-104f)]
    [DataRow(-87.34f)]
    public void VeryNegativeInputsGiveExactlyZero(float x)
    {
        foreach (var value in AllPaths(x)) Assert.AreEqual(0, BitConverter.SingleToInt32Bits(value), $"exp({x}) = {value:R}");
    }

    [TestMethod]
    [DataRow(float.PositiveInfinity)]
    [DataRow(float.MaxValue)]
    [DataRow(1000f)]
    [DataRow(88.72284f)]
    public void OverflowingInputsGivePositiveInfinity(float x)
    {
        foreach (var value in AllPaths(x)) Assert.AreEqual(float.PositiveInfinity, value, $"exp({x:R})");
    }

    [TestMethod]
    public void TheLargestFiniteResultIsNearFloatMaxValue()
    {
        const float x = 88.72283f; // the largest float below ln(float.MaxValue) = 88.7228391
        Assert.IsTrue(Math.Exp(x) < float.MaxValue && Math.Exp(MathF.BitIncrement(x)) > float.MaxValue, "the test's x is the edge");
        foreach (var value in AllPaths(x))
        {
            Assert.IsTrue(float.IsFinite(value), $"exp({x:R}) = {value:R}");
            Assert.AreEqual(Math.Exp(x), value, 2 * Math.ScaleB(1.0, 127 - 23), $"exp({x:R})");
        }
    }

    [TestMethod]
    public void TheSmallestNonzeroResultIsNormal()
    {
        const float x = -87.33f;
        foreach (var value in AllPaths(x))
        {
            Assert.IsTrue(float.IsNormal(value), $"exp({x:R}) = {value:R}");
            Assert.AreEqual(Math.Exp(x), value, 2 * Math.ScaleB(1.0, -127 - 23), $"exp({x:R})");
        }
    }

    [TestMethod]
    public void NaNStaysNaNAndZeroGivesOne()
    {
        foreach (var value in AllPaths(float.NaN)) Assert.IsTrue(float.IsNaN(value), $"exp(NaN) = {value:R}");
        foreach (var value in AllPaths(0f)) Assert.AreEqual(1f, value, "exp(0)");
        foreach (var value in AllPaths(-0f)) Assert.AreEqual(1f, value, "exp(−0)");
    }

    [TestMethod]
    public void VectorLanesGiveTheScalarBits()
    {
        var random = new Random(11);
        var inputs = new float[1 << 20];
        for (var index = 0; index < inputs.Length; index++)
        {
            // Mostly the working range, with a share of the edges and beyond.
            inputs[index] = (index % 8) switch
            {
                0 => (float)(random.NextDouble() * 400 - 200),
                1 => (float)(random.NextDouble() * 2 - 88.5),
                2 => (float)(random.NextDouble() * 2 + 87.5),
                _ => (float)(random.NextDouble() * 40 - 30),
            };
        }

        inputs[0] = float.NaN;
        inputs[1] = float.PositiveInfinity;
        inputs[2] = float.NegativeInfinity;
        inputs[3] = -0f;
        var scalar = inputs.Select(VectorExponential.Exp).ToArray();
        var wide = new float[inputs.Length];
        ExpAll(inputs, wide, VectorExponential.Exp, VectorExponential.Exp, VectorExponential.Exp);
        var narrow = new float[inputs.Length];
        ExpAll(inputs, narrow, null, VectorExponential.Exp, VectorExponential.Exp);
        Assert.IsTrue(float.IsNaN(scalar[0]) && float.IsNaN(wide[0]) && float.IsNaN(narrow[0]), "NaN");
        for (var index = 1; index < inputs.Length; index++)
        {
            var expected = BitConverter.SingleToInt32Bits(scalar[index]);
            Assert.AreEqual(expected, BitConverter.SingleToInt32Bits(wide[index]), $"512-bit lanes at x = {inputs[index]:R}");
            Assert.AreEqual(expected, BitConverter.SingleToInt32Bits(narrow[index]), $"Vector<float> lanes at x = {inputs[index]:R}");
        }
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(7)]
    [DataRow(37)]
    [DataRow(129)]
    public void ExponentiateShiftedWritesTheScalarExponentialsAndTheirSum(int length)
    {
        var random = new Random(length);
        var source = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 20 - 10)).ToArray();
        if (length > 3) source[3] = float.NegativeInfinity;
        var destination = new float[length];
        var sum = VectorExponential.ExponentiateShifted(source, 2.5f, destination);
        for (var index = 0; index < length; index++)
            Assert.AreEqual(VectorExponential.Exp(source[index] - 2.5f), destination[index], $"entry {index}");
        if (length > 3) Assert.AreEqual(0, BitConverter.SingleToInt32Bits(destination[3]), "exp(−∞) is exactly 0");
        Assert.AreEqual(destination.Sum(value => (double)value), sum, 1e-5 * sum, "sum");

        var inPlace = (float[])source.Clone();
        Assert.AreEqual(sum, VectorExponential.ExponentiateShifted(inPlace, 2.5f, inPlace), "in place, the same sum");
        CollectionAssert.AreEqual(destination, inPlace, "in place, the same values");
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(37)]
    [DataRow(129)]
    public void SoftmaxSumsToOneAndGivesTheMaximumAndTheSum(int length)
    {
        var random = new Random(length + 100);
        var source = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 20 - 10)).ToArray();
        if (length > 3) source[3] = float.NegativeInfinity;
        var probabilities = new float[length];
        var (maximum, sum) = VectorExponential.Softmax(source, probabilities);

        Assert.AreEqual(source.Max(), maximum, "maximum");
        var exponentials = new float[length];
        Assert.AreEqual(VectorExponential.ExponentiateShifted(source, maximum, exponentials), sum, "sum of exp(s − max)");
        for (var index = 0; index < length; index++)
        {
            Assert.AreEqual(exponentials[index] * (1f / sum), probabilities[index], $"entry {index}");
            Assert.AreEqual(Math.Exp(source[index] - source.Max()) / exponentials.Sum(value => (double)value), probabilities[index], 1e-6, $"entry {index} against double");
        }

        if (length > 3) Assert.AreEqual(0, BitConverter.SingleToInt32Bits(probabilities[3]), "a score of −∞ gives exactly 0");
        Assert.AreEqual(1.0, probabilities.Sum(value => (double)value), 1e-6, "the probabilities sum to 1");
        var inPlace = (float[])source.Clone();
        Assert.AreEqual((maximum, sum), VectorExponential.Softmax(inPlace, inPlace), "in place, the same maximum and sum");
        CollectionAssert.AreEqual(probabilities, inPlace, "in place, the same values");
    }

    /// <summary>exp of <paramref name="x"/> through each path: a 512-bit lane (when supported), a Vector lane, the scalar.</summary>
    private static IEnumerable<float> AllPaths(float x)
    {
        if (Vector512.IsHardwareAccelerated) yield return VectorExponential.Exp(Vector512.Create(x)).ToScalar();
        yield return VectorExponential.Exp(new Vector<float>(x))[0];
        yield return VectorExponential.Exp(x);
    }

    /// <summary>As a kernel runs: 512-bit blocks (when given and supported), then Vector blocks, then the scalar tail.</summary>
    private static void ExpAll(float[] inputs, float[] outputs, Func<Vector512<float>, Vector512<float>>? wide,
        Func<Vector<float>, Vector<float>> narrow, Func<float, float> scalar)
    {
        var index = 0;
        if (wide is not null && Vector512.IsHardwareAccelerated)
        {
            for (; index + Vector512<float>.Count <= inputs.Length; index += Vector512<float>.Count)
                wide(Vector512.Create(inputs, index)).CopyTo(outputs, index);
        }

        for (; index + Vector<float>.Count <= inputs.Length; index += Vector<float>.Count)
            narrow(new Vector<float>(inputs, index)).CopyTo(outputs, index);
        for (; index < inputs.Length; index++) outputs[index] = scalar(inputs[index]);
    }
}
