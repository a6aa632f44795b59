using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Privacy;
using EmbeddingKernel = Pipelines.Components.Kernels.Embedding;
using LayerNormKernel = Pipelines.Components.Kernels.LayerNorm;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>Embedding and layer-norm per-example norms against the engine's own backward run one example at a time.</summary>
[TestClass]
public sealed class PerExampleNormsTests
{
    [TestMethod]
    public void EmbeddingNormsMatchTheEngineBackwardPerExample()
    {
        const int batch = 3, tokens = 7, channels = 5, vocabulary = 4; // a vocabulary of 4 forces repeated ids
        var ids = Enumerable.Range(0, batch * tokens).Select(index => (index * 7 + index / 3) % vocabulary).ToArray();
        var outputGradient = Support.GradientCheck.RandomArray(batch * tokens * channels, seed: 5);
        var (tokenNorms, positionNorms) = (new double[batch], new double[batch]);

        PerExampleNorms.Embedding(ids, outputGradient, tokenNorms, positionNorms, batch, tokens, channels);

        for (var example = 0; example < batch; example++)
        {
            var tokenTable = new float[vocabulary * channels];
            var positionTable = new float[tokens * channels];
            EmbeddingKernel.Backward(ids.AsSpan(example * tokens, tokens), outputGradient.AsSpan(example * tokens * channels, tokens * channels),
                tokenTable, positionTable, 1, tokens, channels, vocabulary, Parallelism.Sequential);
            AssertClose(SquaredNorm(tokenTable), tokenNorms[example], $"token table, example {example}");
            AssertClose(SquaredNorm(positionTable), positionNorms[example], $"position table, example {example}");
        }

        Assert.IsTrue(tokenNorms[0] > positionNorms[0] * 1.01 || tokenNorms[0] < positionNorms[0] * 0.99, "repeated ids must change the token norm");
    }

    [TestMethod]
    public void LayerNormNormsMatchTheEngineBackwardPerExample()
    {
        const int batch = 4, tokens = 3, channels = 9;
        var rows = batch * tokens;
        var input = Support.GradientCheck.RandomArray(rows * channels, seed: 6, scale: 3);
        var scale = Support.GradientCheck.RandomArray(channels, seed: 7);
        var shift = Support.GradientCheck.RandomArray(channels, seed: 8);
        var outputGradient = Support.GradientCheck.RandomArray(rows * channels, seed: 9);
        var (output, mean, reciprocal) = (new float[rows * channels], new float[rows], new float[rows]);
        LayerNormKernel.Forward(input, scale, shift, output, mean, reciprocal, rows, channels, Parallelism.Sequential);
        var (scaleNorms, shiftNorms) = (new double[batch], new double[batch]);

        PerExampleNorms.LayerNorm(outputGradient, input, mean, reciprocal, scaleNorms, shiftNorms, batch, tokens, channels);

        for (var example = 0; example < batch; example++)
        {
            var (scaleGradient, shiftGradient) = (new float[channels], new float[channels]);
            var span = example * tokens * channels;
            LayerNormKernel.Backward(outputGradient.AsSpan(span, tokens * channels), input.AsSpan(span, tokens * channels), scale,
                mean.AsSpan(example * tokens, tokens), reciprocal.AsSpan(example * tokens, tokens), [], scaleGradient, shiftGradient, tokens, channels, Parallelism.Sequential);
            AssertClose(SquaredNorm(scaleGradient), scaleNorms[example], $"scale, example {example}");
            AssertClose(SquaredNorm(shiftGradient), shiftNorms[example], $"shift, example {example}");
        }
    }

    [TestMethod]
    public void ShapesAreChecked()
    {
        Assert.ThrowsExactly<ArgumentException>(() => PerExampleNorms.Embedding(new int[3], new float[5], new double[1], [], 1, 3, 2));
        Assert.ThrowsExactly<ArgumentException>(() => PerExampleNorms.LayerNorm(new float[6], new float[6], new float[3], new float[2], [], [], 1, 3, 2));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => PerExampleNorms.Embedding([], [], [], [], 1, -1, 2));
    }

    private static double SquaredNorm(float[] values) => values.Sum(value => (double)value * value);

    private static void AssertClose(double expected, double actual, string what)
    {
        var error = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-12);
        Assert.IsTrue(error <= 1e-5, $"{what}: expected {expected:R}, got {actual:R} (relative error {error:E2})");
    }
}
