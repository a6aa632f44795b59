using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Privacy;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>Ghost norms against materialised per-example gradients on odd shapes, tied to the engine's Linear backward.</summary>
[TestClass]
public sealed class GhostNormsTests
{
    private static readonly (int Batch, int Tokens, int In, int Out)[] OddShapes =
        [(3, 5, 7, 11), (2, 1, 13, 3), (1, 17, 4, 9), (4, 3, 1, 1), (5, 9, 6, 2), (2, 0, 3, 4)];

    [TestMethod]
    public void GhostAgreesWithTheMaterialisedReference()
    {
        foreach (var (batch, tokens, inChannels, outChannels) in OddShapes)
        {
            var input = Support.GradientCheck.RandomArray(batch * tokens * inChannels, seed: 1);
            var outputGradient = Support.GradientCheck.RandomArray(batch * tokens * outChannels, seed: 2);
            var (ghostWeight, ghostBias, referenceWeight, referenceBias) = (new double[batch], new double[batch], new double[batch], new double[batch]);

            GhostNorms.Ghost(input, outputGradient, ghostWeight, ghostBias, batch, tokens, inChannels, outChannels);
            GhostNorms.Reference(input, outputGradient, referenceWeight, referenceBias, batch, tokens, inChannels, outChannels);

            for (var example = 0; example < batch; example++)
            {
                AssertClose(referenceWeight[example], ghostWeight[example], $"weight, shape ({batch}, {tokens}, {inChannels}, {outChannels}), example {example}");
                AssertClose(referenceBias[example], ghostBias[example], $"bias, shape ({batch}, {tokens}, {inChannels}, {outChannels}), example {example}");
            }
        }
    }

    [TestMethod]
    public void CancellingTokensStillAgree()
    {
        // Token 1 is minus token 0 in the output gradient: the example's gradient is small against each token's share.
        float[] input = [1, 2, 3, 1.001f, 2, 3];
        float[] outputGradient = [0.5f, -1, -0.5f, 1];
        var (ghost, reference) = (new double[1], new double[1]);
        GhostNorms.Ghost(input, outputGradient, ghost, [], 1, 2, 3, 2);
        GhostNorms.Reference(input, outputGradient, reference, [], 1, 2, 3, 2);
        AssertClose(reference[0], ghost[0], "cancelling tokens");
        Assert.AreEqual(1.25 * 1e-6, reference[0], 1e-9, "||(b0)(a0 - a1)^T||^2 = |b0|^2 |0.001|^2");
    }

    [TestMethod]
    public void SumOfPerExampleGradientsIsTheEngineLinearGradient()
    {
        // Ties the brute force's convention (g_i = sum_t b_t a_t^T, [OC, IC]) to the engine's Linear backward.
        const int batch = 3, tokens = 4, inChannels = 5, outChannels = 6;
        var input = Support.GradientCheck.RandomArray(batch * tokens * inChannels, seed: 3);
        var outputGradient = Support.GradientCheck.RandomArray(batch * tokens * outChannels, seed: 4);
        var total = new float[outChannels * inChannels];
        var totalBias = new float[outChannels];
        for (var example = 0; example < batch; example++)
        {
            var exampleWeight = new float[outChannels * inChannels];
            var exampleBias = new float[outChannels];
            Linear.Backward(
                outputGradient.AsSpan(example * tokens * outChannels, tokens * outChannels), input.AsSpan(example * tokens * inChannels, tokens * inChannels), [],
                [], exampleWeight, exampleBias, tokens, inChannels, outChannels, Parallelism.Sequential);
            var (weightNorm, biasNorm) = (new double[1], new double[1]);
            GhostNorms.SquaredNorms(input.AsSpan(example * tokens * inChannels, tokens * inChannels), outputGradient.AsSpan(example * tokens * outChannels, tokens * outChannels),
                weightNorm, biasNorm, 1, tokens, inChannels, outChannels);
            AssertClose(exampleWeight.Sum(value => (double)value * value), weightNorm[0], $"engine weight gradient of example {example}", 1e-5);
            AssertClose(exampleBias.Sum(value => (double)value * value), biasNorm[0], $"engine bias gradient of example {example}", 1e-5);
            for (var index = 0; index < total.Length; index++) total[index] += exampleWeight[index];
            for (var index = 0; index < totalBias.Length; index++) totalBias[index] += exampleBias[index];
        }

        var batchWeight = new float[outChannels * inChannels];
        var batchBias = new float[outChannels];
        Linear.Backward(outputGradient, input, [], [], batchWeight, batchBias, batch * tokens, inChannels, outChannels, Parallelism.Sequential);
        Support.GradientCheck.AssertClose(batchWeight, total, "sum of per-example weight gradients", relative: 1e-5, absolute: 1e-6);
        Support.GradientCheck.AssertClose(batchBias, totalBias, "sum of per-example bias gradients", relative: 1e-5, absolute: 1e-6);
    }

    [TestMethod]
    public void ShapesAreChecked()
    {
        Assert.ThrowsExactly<ArgumentException>(() => GhostNorms.Ghost(new float[5], new float[6], new double[1], [], 1, 1, 6, 6));
        Assert.ThrowsExactly<ArgumentException>(() => GhostNorms.Reference(new float[6], new float[6], new double[2], [], 1, 1, 6, 6));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GhostNorms.SquaredNorms([], [], [], [], -1, 1, 1, 1));
    }

    private static void AssertClose(double expected, double actual, string what, double relative = 1e-10)
    {
        var error = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-30);
        Assert.IsTrue(error <= relative || Math.Abs(actual - expected) < 1e-300, $"{what}: expected {expected:R}, got {actual:R} (relative error {error:E2})");
    }
}
