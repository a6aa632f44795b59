using System.Runtime.Intrinsics;
using Pipelines.Components.Compute;

namespace Pipelines.Components.Kernels;

/// <summary>
/// Fully connected layer, PyTorch layout: output = input · weightᵀ + bias, weight stored [OC, IC].
/// </summary>
/// <remarks>
/// Shapes: input [N, IC], weight [OC, IC], bias [OC] (or empty for none), output [N, OC].
/// Backward (accumulating): ∂input += ∂output · weight, ∂weight += ∂outputᵀ · input, ∂bias += Σ_rows ∂output.
/// All three products run through <see cref="Gemm"/>.
/// </remarks>
public static class Linear
{
    /// <summary>output[N, OC] = input[N, IC] · weight[OC, IC]ᵀ + bias[OC] (overwrites output).</summary>
    /// <param name="input">Input activations [N, IC].</param>
    /// <param name="weight">Weight [OC, IC].</param>
    /// <param name="bias">Bias [OC], or empty for none.</param>
    /// <param name="output">Output [N, OC]; overwritten.</param>
    /// <param name="rows">N, the number of rows (B·T).</param>
    /// <param name="inChannels">IC.</param>
    /// <param name="outChannels">OC.</param>
    /// <param name="parallelism">Threads to use; the result does not depend on it.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative.</exception>
    /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
    public static void Forward(
        ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        int rows, int inChannels, int outChannels, Parallelism parallelism)
    {
        ValidateForward(input, weight, bias, output, rows, inChannels, outChannels);
        Gemm.MultiplyWithBias(
            input, Math.Max(1, inChannels), false, weight, Math.Max(1, inChannels), true, bias, output, Math.Max(1, outChannels),
            rows, outChannels, inChannels, 1f, parallelism);
    }

    /// <summary>
    /// Accumulates ∂input[N, IC] += ∂output · weight, ∂weight[OC, IC] += ∂outputᵀ · input and
    /// ∂bias[OC] += column sums of ∂output; an empty gradient span skips that work.
    /// </summary>
    /// <param name="outputGradient">∂loss/∂output [N, OC].</param>
    /// <param name="input">The forward input [N, IC] (needed for ∂weight; may be empty when ∂weight is).</param>
    /// <param name="weight">Weight [OC, IC] (needed for ∂input; may be empty when ∂input is).</param>
    /// <param name="inputGradient">∂input [N, IC], accumulated; or empty.</param>
    /// <param name="weightGradient">∂weight [OC, IC], accumulated; or empty.</param>
    /// <param name="biasGradient">∂bias [OC], accumulated; or empty.</param>
    /// <param name="rows">N.</param>
    /// <param name="inChannels">IC.</param>
    /// <param name="outChannels">OC.</param>
    /// <param name="parallelism">Threads to use; the result does not depend on it.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative.</exception>
    /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
    public static void Backward(
        ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
        Span<float> inputGradient, Span<float> weightGradient, Span<float> biasGradient,
        int rows, int inChannels, int outChannels, Parallelism parallelism) =>
        Backward(outputGradient, input, weight, inputGradient, weightGradient, biasGradient, rows, inChannels, outChannels, parallelism, overwriteInputGradient: false);

    /// <summary>
    /// <see cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, int, int, int, Parallelism)"/>,
    /// except that with <paramref name="overwriteInputGradient"/> ∂input is overwritten (Gemm beta = 0) rather than
    /// accumulated: the models use it for per-block temporaries, which then need no clearing first.
    /// </summary>
    internal static void Backward(
        ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
        Span<float> inputGradient, Span<float> weightGradient, Span<float> biasGradient,
        int rows, int inChannels, int outChannels, Parallelism parallelism, bool overwriteInputGradient)
    {
        ValidateBackward(outputGradient, input, weight, inputGradient, weightGradient, biasGradient, rows, inChannels, outChannels);
        var leadingIn = Math.Max(1, inChannels);
        var leadingOut = Math.Max(1, outChannels);
        if (!inputGradient.IsEmpty)
        {
            Gemm.Multiply(
                outputGradient, leadingOut, false, weight, leadingIn, false, inputGradient, leadingIn,
                rows, inChannels, outChannels, 1f, overwriteInputGradient ? 0f : 1f, parallelism);
        }

        if (!weightGradient.IsEmpty)
        {
            Gemm.Multiply(
                outputGradient, leadingOut, true, input, leadingIn, false, weightGradient, leadingIn,
                outChannels, inChannels, rows, 1f, 1f, parallelism);
        }

        if (!biasGradient.IsEmpty) AccumulateColumnSums(outputGradient, biasGradient, rows, outChannels, parallelism);
    }

    /// <summary>sums[j] += Σ_row values[row, j], each column summed in row order by one thread.</summary>
    private static unsafe void AccumulateColumnSums(ReadOnlySpan<float> values, Span<float> sums, int rows, int columns, Parallelism parallelism)
    {
        fixed (float* valuesPointer = values)
        fixed (float* sumsPointer = sums)
        {
            var source = (nint)valuesPointer;
            var target = (nint)sumsPointer;
            var threads = (long)rows * columns < 1 << 16 ? Parallelism.Sequential : parallelism;
            threads.For(columns, (source, target, rows, columns), static (state, start, end) =>
            {
                var (source, target, rows, columns) = state;
                for (var row = 0; row < rows; row += ColumnSumRowBlock)
                {
                    var values = (float*)source + (long)row * columns;
                    AddRowsInOrder(values, columns, Math.Min(ColumnSumRowBlock, rows - row), (float*)target, start, end);
                }
            }, minimumChunk: 64);
        }
    }

    /// <summary>Rows that <see cref="AccumulateColumnSums"/> adds into a register before storing the partial sums.</summary>
    private const int ColumnSumRowBlock = 8;

    /// <summary>
    /// sums[j] = (…(sums[j] + values[0, j]) + …) + values[rows − 1, j] for j in [start, end): the order of adding one
    /// row at a time, with each partial sum kept in a register across the rows.
    /// </summary>
    private static unsafe void AddRowsInOrder(float* values, int columns, int rows, float* sums, int start, int end)
    {
        var column = start;
        for (; column + 2 * Vector256<float>.Count <= end; column += 2 * Vector256<float>.Count)
        {
            var sum0 = Vector256.Load(sums + column);
            var sum1 = Vector256.Load(sums + column + Vector256<float>.Count);
            var value = values + column;
            for (var row = 0; row < rows; row++, value += columns)
            {
                sum0 += Vector256.Load(value);
                sum1 += Vector256.Load(value + Vector256<float>.Count);
            }

            sum0.Store(sums + column);
            sum1.Store(sums + column + Vector256<float>.Count);
        }

        for (; column < end; column++)
        {
            var sum = sums[column];
            for (var row = 0; row < rows; row++) sum += values[(long)row * columns + column];
            sums[column] = sum;
        }
    }

    private static void ValidateForward(
        ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> output,
        int rows, int inChannels, int outChannels)
    {
        ValidateSizes(rows, inChannels, outChannels);
        KernelGuard.RequireLength(input.Length, (long)rows * inChannels, nameof(input));
        KernelGuard.RequireLength(weight.Length, (long)outChannels * inChannels, nameof(weight));
        if (!bias.IsEmpty) KernelGuard.RequireLength(bias.Length, outChannels, nameof(bias));
        KernelGuard.RequireLength(output.Length, (long)rows * outChannels, nameof(output));
    }

    private static void ValidateBackward(
        ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> inputGradient, ReadOnlySpan<float> weightGradient, ReadOnlySpan<float> biasGradient,
        int rows, int inChannels, int outChannels)
    {
        ValidateSizes(rows, inChannels, outChannels);
        KernelGuard.RequireLength(outputGradient.Length, (long)rows * outChannels, nameof(outputGradient));
        if (!inputGradient.IsEmpty)
        {
            KernelGuard.RequireLength(inputGradient.Length, (long)rows * inChannels, nameof(inputGradient));
            KernelGuard.RequireLength(weight.Length, (long)outChannels * inChannels, nameof(weight));
        }

        if (!weightGradient.IsEmpty)
        {
            KernelGuard.RequireLength(weightGradient.Length, (long)outChannels * inChannels, nameof(weightGradient));
            KernelGuard.RequireLength(input.Length, (long)rows * inChannels, nameof(input));
        }

        if (!biasGradient.IsEmpty) KernelGuard.RequireLength(biasGradient.Length, outChannels, nameof(biasGradient));
    }

    private static void ValidateSizes(int rows, int inChannels, int outChannels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegative(outChannels);
    }

    /// <summary>Plain loops that <see cref="Linear"/> is tested against; same contracts, single-threaded.</summary>
    public static class Reference
    {
        /// <summary>output[N, OC] = input[N, IC] · weight[OC, IC]ᵀ + bias[OC] (overwrites output).</summary>
        /// <param name="input">Input activations [N, IC].</param>
        /// <param name="weight">Weight [OC, IC].</param>
        /// <param name="bias">Bias [OC], or empty for none.</param>
        /// <param name="output">Output [N, OC]; overwritten.</param>
        /// <param name="rows">N.</param>
        /// <param name="inChannels">IC.</param>
        /// <param name="outChannels">OC.</param>
        /// <exception cref="ArgumentOutOfRangeException">A size is negative.</exception>
        /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
        public static void Forward(
            ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
            int rows, int inChannels, int outChannels)
        {
            ValidateForward(input, weight, bias, output, rows, inChannels, outChannels);
            for (var row = 0; row < rows; row++)
            {
                for (var outChannel = 0; outChannel < outChannels; outChannel++)
                {
                    var sum = bias.IsEmpty ? 0f : bias[outChannel];
                    for (var inChannel = 0; inChannel < inChannels; inChannel++)
                        sum += input[row * inChannels + inChannel] * weight[outChannel * inChannels + inChannel];
                    output[row * outChannels + outChannel] = sum;
                }
            }
        }

        /// <summary>Accumulating backward of <see cref="Forward"/>; an empty gradient span skips that work.</summary>
        /// <param name="outputGradient">∂loss/∂output [N, OC].</param>
        /// <param name="input">The forward input [N, IC].</param>
        /// <param name="weight">Weight [OC, IC].</param>
        /// <param name="inputGradient">∂input [N, IC], accumulated; or empty.</param>
        /// <param name="weightGradient">∂weight [OC, IC], accumulated; or empty.</param>
        /// <param name="biasGradient">∂bias [OC], accumulated; or empty.</param>
        /// <param name="rows">N.</param>
        /// <param name="inChannels">IC.</param>
        /// <param name="outChannels">OC.</param>
        /// <exception cref="ArgumentOutOfRangeException">A size is negative.</exception>
        /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
        public static void Backward(
            ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
            Span<float> inputGradient, Span<float> weightGradient, Span<float> biasGradient,
            int rows, int inChannels, int outChannels)
        {
            ValidateBackward(outputGradient, input, weight, inputGradient, weightGradient, biasGradient, rows, inChannels, outChannels);
            for (var row = 0; row < rows; row++)
            {
                for (var outChannel = 0; outChannel < outChannels; outChannel++)
                {
                    var gradient = outputGradient[row * outChannels + outChannel];
                    if (!biasGradient.IsEmpty) biasGradient[outChannel] += gradient;
                    for (var inChannel = 0; inChannel < inChannels; inChannel++)
                    {
                        if (!inputGradient.IsEmpty) inputGradient[row * inChannels + inChannel] += gradient * weight[outChannel * inChannels + inChannel];
                        if (!weightGradient.IsEmpty) weightGradient[outChannel * inChannels + inChannel] += gradient * input[row * inChannels + inChannel];
                    }
                }
            }
        }
    }
}
