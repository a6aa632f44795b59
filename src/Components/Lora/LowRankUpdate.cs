using System.Buffers;
using System.Numerics.Tensors;
using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;

namespace Pipelines.Components.Lora;

/// <summary>
/// The LoRA term of a linear layer, forward beside backward: output += scale · (input · Aᵀ) · Bᵀ.
/// </summary>
/// <remarks>
/// Hu et al., arXiv 2106.09685: <c>h = W0 x + scale · B A x</c>. Shapes (N = rows, IC/OC = in/out channels, r = rank):
/// input [N, IC], A ("down", lora_A) [r, IC], B ("up", lora_B) [OC, r], hidden = input · Aᵀ [N, r], output [N, OC].
/// Backward (accumulating, except the hidden gradient scratch):
/// <c>∂hidden = scale · ∂output · B</c>, <c>∂B += scale · ∂outputᵀ · hidden</c>, <c>∂A += ∂hiddenᵀ · input</c>,
/// <c>∂input += ∂hidden · A</c>. The products are skinny (r is 4-64 where IC and OC are hundreds), which the packed
/// <see cref="Gemm"/> handles at a fraction of its speed, so they run through register-blocked vector loops of their own
/// (<c>LowRankUpdate.Products.cs</c>); <see cref="Reference"/> is the plain loop twin.
/// </remarks>
public static partial class LowRankUpdate
{
    /// <summary>hidden[N, r] = input · Aᵀ (overwritten); output[N, OC] += scale · hidden · Bᵀ.</summary>
    /// <param name="input">Input activations [N, IC].</param>
    /// <param name="down">A [r, IC].</param>
    /// <param name="up">B [OC, r].</param>
    /// <param name="scale">alpha/r (or alpha/√r).</param>
    /// <param name="hidden">[N, r]; overwritten, kept for backward.</param>
    /// <param name="output">[N, OC]; accumulated.</param>
    /// <param name="rows">N.</param>
    /// <param name="inChannels">IC.</param>
    /// <param name="outChannels">OC.</param>
    /// <param name="rank">r.</param>
    /// <param name="parallelism">Threads to use; the result does not depend on it.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1 (rows may be 0).</exception>
    /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
    public static void Forward(
        ReadOnlySpan<float> input, ReadOnlySpan<float> down, ReadOnlySpan<float> up, float scale, Span<float> hidden, Span<float> output,
        int rows, int inChannels, int outChannels, int rank, Parallelism parallelism)
    {
        ValidateForward(input, down, up, hidden, output, rows, inChannels, outChannels, rank);
        if (rows == 0) return;
        var upTransposed = ArrayPool<float>.Shared.Rent(rank * outChannels);
        try
        {
            Transpose(up, upTransposed, outChannels, rank);
            RowDots(input, down, hidden, rows, inChannels, rank, 1f, parallelism);
            RowCombinations(hidden, upTransposed, output, rows, rank, outChannels, scale, parallelism);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(upTransposed);
        }
    }

    /// <summary>Back-propagates <paramref name="outputGradient"/>; empty gradient spans skip that work.</summary>
    /// <param name="outputGradient">∂loss/∂output [N, OC].</param>
    /// <param name="input">The forward input [N, IC].</param>
    /// <param name="down">A [r, IC].</param>
    /// <param name="up">B [OC, r].</param>
    /// <param name="scale">The forward's scale.</param>
    /// <param name="hidden">The forward's hidden [N, r].</param>
    /// <param name="hiddenGradient">Scratch [N, r]; overwritten.</param>
    /// <param name="inputGradient">∂input [N, IC], accumulated; or empty.</param>
    /// <param name="downGradient">∂A [r, IC], accumulated; or empty.</param>
    /// <param name="upGradient">∂B [OC, r], accumulated; or empty.</param>
    /// <param name="rows">N.</param>
    /// <param name="inChannels">IC.</param>
    /// <param name="outChannels">OC.</param>
    /// <param name="rank">r.</param>
    /// <param name="parallelism">Threads to use; the result does not depend on it.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1 (rows may be 0).</exception>
    /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
    public static void Backward(
        ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> down, ReadOnlySpan<float> up, float scale,
        ReadOnlySpan<float> hidden, Span<float> hiddenGradient, Span<float> inputGradient, Span<float> downGradient, Span<float> upGradient,
        int rows, int inChannels, int outChannels, int rank, Parallelism parallelism)
    {
        ValidateBackward(outputGradient, input, down, up, hidden, hiddenGradient, inputGradient, downGradient, upGradient, rows, inChannels, outChannels, rank);
        if (rows == 0) return;
        var scratch = ArrayPool<float>.Shared.Rent(rank * Math.Max(inChannels, outChannels));
        try
        {
            if (!upGradient.IsEmpty)
            {
                // ∂Bᵀ[r, OC] = hiddenᵀ · ∂output, then ∂B[o, c] += scale · ∂Bᵀ[c, o].
                ColumnSums(hidden, outputGradient, scratch, rows, rank, outChannels, parallelism);
                for (var outChannel = 0; outChannel < outChannels; outChannel++)
                for (var component = 0; component < rank; component++)
                    upGradient[outChannel * rank + component] += scale * scratch[component * outChannels + outChannel];
            }

            if (downGradient.IsEmpty && inputGradient.IsEmpty) return;
            Transpose(up, scratch, outChannels, rank);
            RowDots(outputGradient, scratch, hiddenGradient, rows, outChannels, rank, scale, parallelism);
            if (!downGradient.IsEmpty)
            {
                ColumnSums(hiddenGradient, input, scratch, rows, rank, inChannels, parallelism);
                TensorPrimitives.Add(downGradient, scratch.AsSpan(0, rank * inChannels), downGradient);
            }

            if (!inputGradient.IsEmpty)
                RowCombinations(hiddenGradient, down, inputGradient, rows, rank, inChannels, 1f, parallelism);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    private static void ValidateForward(
        ReadOnlySpan<float> input, ReadOnlySpan<float> down, ReadOnlySpan<float> up, ReadOnlySpan<float> hidden, ReadOnlySpan<float> output,
        int rows, int inChannels, int outChannels, int rank)
    {
        ValidateSizes(rows, inChannels, outChannels, rank);
        KernelGuard.RequireLength(input.Length, (long)rows * inChannels, nameof(input));
        KernelGuard.RequireLength(down.Length, (long)rank * inChannels, nameof(down));
        KernelGuard.RequireLength(up.Length, (long)outChannels * rank, nameof(up));
        KernelGuard.RequireLength(hidden.Length, (long)rows * rank, nameof(hidden));
        KernelGuard.RequireLength(output.Length, (long)rows * outChannels, nameof(output));
    }

    private static void ValidateBackward(
        ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> down, ReadOnlySpan<float> up, ReadOnlySpan<float> hidden,
        ReadOnlySpan<float> hiddenGradient, ReadOnlySpan<float> inputGradient, ReadOnlySpan<float> downGradient, ReadOnlySpan<float> upGradient,
        int rows, int inChannels, int outChannels, int rank)
    {
        ValidateSizes(rows, inChannels, outChannels, rank);
        KernelGuard.RequireLength(outputGradient.Length, (long)rows * outChannels, nameof(outputGradient));
        KernelGuard.RequireLength(input.Length, (long)rows * inChannels, nameof(input));
        KernelGuard.RequireLength(down.Length, (long)rank * inChannels, nameof(down));
        KernelGuard.RequireLength(up.Length, (long)outChannels * rank, nameof(up));
        KernelGuard.RequireLength(hidden.Length, (long)rows * rank, nameof(hidden));
        KernelGuard.RequireLength(hiddenGradient.Length, (long)rows * rank, nameof(hiddenGradient));
        if (!inputGradient.IsEmpty) KernelGuard.RequireLength(inputGradient.Length, (long)rows * inChannels, nameof(inputGradient));
        if (!downGradient.IsEmpty) KernelGuard.RequireLength(downGradient.Length, (long)rank * inChannels, nameof(downGradient));
        if (!upGradient.IsEmpty) KernelGuard.RequireLength(upGradient.Length, (long)outChannels * rank, nameof(upGradient));
    }

    private static void ValidateSizes(int rows, int inChannels, int outChannels, int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
    }

    /// <summary>Plain loops that <see cref="LowRankUpdate"/> is tested against; same contracts, single-threaded.</summary>
    public static class Reference
    {
        /// <summary>hidden = input · Aᵀ (overwritten); output += scale · hidden · Bᵀ.</summary>
        /// <inheritdoc cref="LowRankUpdate.Forward" path="/param"/>
        /// <exception cref="ArgumentOutOfRangeException">A size is below 1 (rows may be 0).</exception>
        /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
        public static void Forward(
            ReadOnlySpan<float> input, ReadOnlySpan<float> down, ReadOnlySpan<float> up, float scale, Span<float> hidden, Span<float> output,
            int rows, int inChannels, int outChannels, int rank)
        {
            ValidateForward(input, down, up, hidden, output, rows, inChannels, outChannels, rank);
            for (var row = 0; row < rows; row++)
            {
                for (var component = 0; component < rank; component++)
                {
                    var sum = 0f;
                    for (var inChannel = 0; inChannel < inChannels; inChannel++) sum += input[row * inChannels + inChannel] * down[component * inChannels + inChannel];
                    hidden[row * rank + component] = sum;
                }

                for (var outChannel = 0; outChannel < outChannels; outChannel++)
                {
                    var sum = 0f;
                    for (var component = 0; component < rank; component++) sum += hidden[row * rank + component] * up[outChannel * rank + component];
                    output[row * outChannels + outChannel] += scale * sum;
                }
            }
        }

        /// <summary>Accumulating backward of <see cref="Forward"/>; empty gradient spans skip that work.</summary>
        /// <inheritdoc cref="LowRankUpdate.Backward" path="/param"/>
        /// <exception cref="ArgumentOutOfRangeException">A size is below 1 (rows may be 0).</exception>
        /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
        public static void Backward(
            ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> down, ReadOnlySpan<float> up, float scale,
            ReadOnlySpan<float> hidden, Span<float> hiddenGradient, Span<float> inputGradient, Span<float> downGradient, Span<float> upGradient,
            int rows, int inChannels, int outChannels, int rank)
        {
            ValidateBackward(outputGradient, input, down, up, hidden, hiddenGradient, inputGradient, downGradient, upGradient, rows, inChannels, outChannels, rank);
            for (var row = 0; row < rows; row++)
            {
                for (var component = 0; component < rank; component++)
                {
                    var sum = 0f;
                    for (var outChannel = 0; outChannel < outChannels; outChannel++)
                    {
                        var gradient = outputGradient[row * outChannels + outChannel];
                        sum += gradient * up[outChannel * rank + component];
                        if (!upGradient.IsEmpty) upGradient[outChannel * rank + component] += scale * gradient * hidden[row * rank + component];
                    }

                    hiddenGradient[row * rank + component] = scale * sum;
                }

                for (var component = 0; component < rank; component++)
                {
                    var gradient = hiddenGradient[row * rank + component];
                    for (var inChannel = 0; inChannel < inChannels; inChannel++)
                    {
                        if (!downGradient.IsEmpty) downGradient[component * inChannels + inChannel] += gradient * input[row * inChannels + inChannel];
                        if (!inputGradient.IsEmpty) inputGradient[row * inChannels + inChannel] += gradient * down[component * inChannels + inChannel];
                    }
                }
            }
        }
    }
}
