using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Pipelines.Components.Tests.Support;

/// <summary>Finite-difference gradient checks shared by every backward-kernel test.</summary>
internal static class GradientCheck
{
    /// <summary>
    /// Central differences of <paramref name="loss"/> with respect to each element of <paramref name="input"/>
    /// (perturbed in place and restored). The loss is evaluated in double to keep cancellation small.
    /// </summary>
    public static double[] Numerical(Func<double> loss, float[] input, double epsilon = 1e-2)
    {
        var gradient = new double[input.Length];
        for (var index = 0; index < input.Length; index++)
        {
            var original = input[index];
            input[index] = (float)(original + epsilon);
            var plus = loss();
            input[index] = (float)(original - epsilon);
            var minus = loss();
            input[index] = original;
            gradient[index] = (plus - minus) / (2 * epsilon);
        }

        return gradient;
    }

    /// <summary>Fails naming <paramref name="what"/> and the first index where |expected - actual| exceeds the tolerance.</summary>
    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, string what, double relative = 2e-2, double absolute = 2e-3)
    {
        Assert.AreEqual(expected.Length, actual.Length, $"{what}: length");
        for (var index = 0; index < expected.Length; index++)
        {
            var tolerance = absolute + relative * Math.Abs(expected[index]);
            if (Math.Abs(expected[index] - actual[index]) > tolerance)
                Assert.Fail($"{what}[{index}]: expected {expected[index]:G6}, got {actual[index]:G6} (tolerance {tolerance:G3}).");
        }
    }

    /// <summary>Like <see cref="AssertClose(ReadOnlySpan{double}, ReadOnlySpan{float}, string, double, double)"/> for two float spans.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, double relative = 1e-5, double absolute = 1e-6)
    {
        var widened = new double[expected.Length];
        for (var index = 0; index < expected.Length; index++) widened[index] = expected[index];
        AssertClose(widened, actual, what, relative, absolute);
    }

    /// <summary>A seeded array of normal(0, scale) floats.</summary>
    public static float[] RandomArray(int length, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (var index = 0; index < length; index++)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            values[index] = (float)(scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return values;
    }

    /// <summary>Sum of output[i] * weights[i] in double: a scalar loss whose gradient w.r.t. the output is <paramref name="weights"/>.</summary>
    public static double Dot(ReadOnlySpan<float> output, ReadOnlySpan<float> weights)
    {
        double sum = 0;
        for (var index = 0; index < output.Length; index++) sum += (double)output[index] * weights[index];
        return sum;
    }
}
