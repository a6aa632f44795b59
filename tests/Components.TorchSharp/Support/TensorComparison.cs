using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Pipelines.Components.TorchSharp.Tests.Support;

/// <summary>
/// Compares two backends' tensors and prints OK / NOT OK per tensor, as llm.c's test does. An element passes when
/// <c>|actual − expected| ≤ relative·(|expected| + floor·max|expected|)</c>: relative error, with a floor of a
/// fraction of the tensor's largest magnitude so that entries that cancel to near zero are judged on the tensor's
/// scale. The worst relative error (over entries above the floor) and the normwise error are printed and kept.
/// </summary>
internal sealed class TensorComparison(TestContext context, double relative, double floor)
{
    public int Failures { get; private set; }

    public double WorstRelativeError { get; private set; }

    public double WorstNormwiseError { get; private set; }

    public void Compare(string name, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        if (expected.Length != actual.Length)
        {
            context.WriteLine($"NOT OK {name}: {actual.Length} values, expected {expected.Length}");
            Failures++;
            return;
        }

        var scale = 0.0;
        foreach (var value in expected) scale = Math.Max(scale, Math.Abs(value));
        double worstRelative = 0, differenceSquares = 0, expectedSquares = 0;
        var failedIndex = -1;
        for (var index = 0; index < expected.Length; index++)
        {
            var difference = Math.Abs((double)actual[index] - expected[index]);
            var magnitude = Math.Abs((double)expected[index]);
            differenceSquares += difference * difference;
            expectedSquares += magnitude * magnitude;
            if (magnitude >= floor * scale && magnitude > 0) worstRelative = Math.Max(worstRelative, difference / magnitude);
            if (!(difference <= relative * (magnitude + floor * scale)) && failedIndex < 0) failedIndex = index;
        }

        var normwise = expectedSquares == 0 ? Math.Sqrt(differenceSquares) : Math.Sqrt(differenceSquares / expectedSquares);
        WorstRelativeError = Math.Max(WorstRelativeError, worstRelative);
        WorstNormwiseError = Math.Max(WorstNormwiseError, normwise);
        if (failedIndex < 0 && normwise <= relative)
        {
            context.WriteLine($"OK {name}: worst relative error {worstRelative:E2}, normwise {normwise:E2}");
            return;
        }

        Failures++;
        var at = Math.Max(failedIndex, 0);
        context.WriteLine($"NOT OK {name}: at {at} expected {expected[at]:G8}, got {actual[at]:G8}; worst relative error {worstRelative:E2}, normwise {normwise:E2}");
    }

    /// <summary>Checks only the normwise error <c>‖actual − expected‖ / ‖expected‖ ≤ relative</c> (for quantities that drift apart element by element).</summary>
    public void CompareNormwise(string name, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        double differenceSquares = 0, expectedSquares = 0;
        for (var index = 0; index < expected.Length; index++)
        {
            var difference = (double)actual[index] - expected[index];
            differenceSquares += difference * difference;
            expectedSquares += (double)expected[index] * expected[index];
        }

        var normwise = Math.Sqrt(differenceSquares / Math.Max(expectedSquares, double.Epsilon));
        WorstNormwiseError = Math.Max(WorstNormwiseError, normwise);
        var passed = expected.Length == actual.Length && normwise <= relative;
        if (!passed) Failures++;
        context.WriteLine($"{(passed ? "OK" : "NOT OK")} {name}: normwise {normwise:E2}");
    }

    public void Summarize(string what)
    {
        context.WriteLine($"{what}: worst relative error {WorstRelativeError:E2}, worst normwise error {WorstNormwiseError:E2}");
        Assert.AreEqual(0, Failures, $"{Failures} tensors of {what} differ beyond {relative:E0} relative (see the output).");
    }
}
