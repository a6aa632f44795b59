using System.Numerics.Tensors;
using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;

namespace Pipelines.Components.Privacy;

public static partial class GhostNorms
{
    /// <summary>
    /// Per-example squared norms of a Linear layer's weight gradient with the products on <see cref="Gemm"/>: the fast
    /// form of <see cref="SquaredNorms"/> (weights only), parallel over examples.
    /// </summary>
    /// <remarks>
    /// When <c>2 T^2 &lt;= IC OC</c>, the token Gram matrices <c>A_i A_i^T</c> and <c>B_i B_i^T</c> [T, T] are built in float and
    /// <c>||g_i||^2 = sum_{t,t'} (A_i A_i^T)_{tt'} (B_i B_i^T)_{tt'}</c> is summed in double (Li et al. 2021, arXiv 2110.05679);
    /// otherwise <c>g_i = B_i^T A_i</c> [OC, IC] is built and its squares summed. Float products put the relative error
    /// near 1e-7 times <c>(sum_t ||a_t|| ||b_t||)^2 / ||g_i||^2</c>; <see cref="Ghost"/> and <see cref="Reference"/> stay
    /// beside it as the double-precision references.
    /// </remarks>
    /// <param name="input">The layer's forward input a [B, T, IC] (longer arrays: the first B T rows are used).</param>
    /// <param name="outputGradient">dLoss/dOutput b [B, T, OC] (likewise).</param>
    /// <param name="weightSquaredNorms">Receives ||g_i||^2 [B] (overwritten).</param>
    /// <param name="batchSize">B.</param>
    /// <param name="tokens">T.</param>
    /// <param name="inChannels">IC.</param>
    /// <param name="outChannels">OC.</param>
    /// <param name="parallelism">Threads over examples; the result does not depend on it.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative.</exception>
    /// <exception cref="ArgumentException">An array is shorter than its shape.</exception>
    public static void WeightSquaredNorms(
        float[] input, float[] outputGradient, double[] weightSquaredNorms, int batchSize, int tokens, int inChannels, int outChannels, Parallelism parallelism)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(outputGradient);
        ArgumentNullException.ThrowIfNull(weightSquaredNorms);
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        ArgumentOutOfRangeException.ThrowIfNegative(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegative(outChannels);
        // Grow-only activation buffers may be longer than the live rows: only the first B T rows are read.
        RequireAtLeast(input.Length, (long)batchSize * tokens * inChannels, nameof(input), "[B, T, IC]");
        RequireAtLeast(outputGradient.Length, (long)batchSize * tokens * outChannels, nameof(outputGradient), "[B, T, OC]");
        RequireAtLeast(weightSquaredNorms.Length, batchSize, nameof(weightSquaredNorms), "[B]");
        var useGram = 2L * tokens * tokens <= (long)inChannels * outChannels;
        var state = (input, outputGradient, weightSquaredNorms, tokens, inChannels, outChannels, useGram);
        parallelism.For(batchSize, state, static (s, start, end) =>
        {
            var (a, b, norms, tokenCount, inputWidth, outputWidth, gram) = s;
            var scratch = gram ? new float[2 * tokenCount * tokenCount] : new float[outputWidth * inputWidth];
            for (var example = start; example < end; example++)
            {
                var exampleInput = a.AsSpan(example * tokenCount * inputWidth, tokenCount * inputWidth);
                var exampleGradient = b.AsSpan(example * tokenCount * outputWidth, tokenCount * outputWidth);
                norms[example] = gram
                    ? GramSquaredNorm(exampleInput, exampleGradient, scratch, tokenCount, inputWidth, outputWidth)
                    : MaterialisedSquaredNorm(exampleInput, exampleGradient, scratch, tokenCount, inputWidth, outputWidth);
            }
        });
    }

    private static void RequireAtLeast(int actual, long needed, string name, string shape)
    {
        if (actual < needed) throw new ArgumentException($"{name} has {actual} elements but its shape {shape} needs {needed}.", name);
    }

    private static double GramSquaredNorm(ReadOnlySpan<float> a, ReadOnlySpan<float> b, float[] scratch, int tokens, int inChannels, int outChannels)
    {
        // Both Gram matrices are symmetric: visit the token blocks (p, q) with q <= p and count off-diagonal ones twice,
        // which with 2 blocks does 3/4 of the full products (blocks of at least 32 tokens keep the Gemms efficient).
        var parts = Math.Clamp(tokens / 32, 1, 4);
        double sum = 0;
        for (var p = 0; p < parts; p++)
        {
            var (rowStart, rowEnd) = (tokens * p / parts, tokens * (p + 1) / parts);
            for (var q = 0; q <= p; q++)
            {
                var (columnStart, columnEnd) = (tokens * q / parts, tokens * (q + 1) / parts);
                var (m, n) = (rowEnd - rowStart, columnEnd - columnStart);
                var inputGram = scratch.AsSpan(0, m * n);      // [m, n] a_t . a_t'
                var outputGram = scratch.AsSpan(m * n, m * n); // [m, n] b_t . b_t'
                Gemm.Multiply(a[(rowStart * inChannels)..], inChannels, false, a[(columnStart * inChannels)..], inChannels, true, inputGram, n, m, n, inChannels, 1f, 0f, Parallelism.Sequential);
                Gemm.Multiply(b[(rowStart * outChannels)..], outChannels, false, b[(columnStart * outChannels)..], outChannels, true, outputGram, n, m, n, outChannels, 1f, 0f, Parallelism.Sequential);
                double block = 0;
                for (var index = 0; index < m * n; index++) block += (double)inputGram[index] * outputGram[index];
                sum += p == q ? block : 2 * block;
            }
        }

        return sum;
    }

    private static double MaterialisedSquaredNorm(ReadOnlySpan<float> a, ReadOnlySpan<float> b, float[] scratch, int tokens, int inChannels, int outChannels)
    {
        var gradient = scratch.AsSpan(0, outChannels * inChannels); // [OC, IC] = b^T a
        Gemm.Multiply(b, outChannels, true, a, inChannels, false, gradient, inChannels, outChannels, inChannels, tokens, 1f, 0f, Parallelism.Sequential);
        double sum = 0;
        for (var row = 0; row < outChannels; row++) sum += TensorPrimitives.SumOfSquares((ReadOnlySpan<float>)gradient.Slice(row * inChannels, inChannels));
        return sum;
    }
}
