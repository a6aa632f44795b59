using System.Buffers;
using System.Numerics.Tensors;
using Pipelines.Components.Compute;

namespace Pipelines.Components.Kernels;

/// <summary>Layer normalisation over the channels of each row, with a learned scale and shift.</summary>
/// <remarks>
/// <c>y = (x − μ)·r·scale + shift</c> with <c>μ = mean(x)</c>, <c>r = 1/√(var(x) + 1e-5)</c> and the biased
/// variance <c>var = mean((x − μ)²)</c>, as PyTorch's <c>layer_norm</c> (Ba et al., arXiv:1607.06450).
/// Backward, with <c>n = (x − μ)·r</c> and <c>g = dy·scale</c>:
/// <c>dx = r·(g − mean(g) − n·mean(g·n))</c>, <c>dscale = Σ_rows dy·n</c>, <c>dshift = Σ_rows dy</c>.
/// The two column sums are taken over fixed blocks of rows whose partial sums are added in block order,
/// so they depend on <c>rows</c> only, never on the thread count or scheduling.
/// </remarks>
public static class LayerNorm
{
    /// <summary>The variance floor added before the square root, as PyTorch's default.</summary>
    public const float Epsilon = 1e-5f;

    private const int MinimumChunkElements = 16 * 1024; // a chunk below this costs more to schedule than to run
    private const int MaximumBlocks = 32;                // column-sum partials: at most this many blocks of rows
    private const int MinimumBlockRows = 16;

    /// <summary>Normalises each row of <paramref name="input"/>, saving the statistics backward needs.</summary>
    /// <param name="input">Input, N×C.</param>
    /// <param name="scale">Learned scale (gamma), C.</param>
    /// <param name="shift">Learned shift (beta), C.</param>
    /// <param name="output">Destination, N×C (overwritten).</param>
    /// <param name="mean">Per-row mean, N (overwritten).</param>
    /// <param name="reciprocalStandardDeviation">Per-row <c>1/√(var + eps)</c>, N (overwritten).</param>
    /// <param name="rows">N, the number of rows.</param>
    /// <param name="channels">C, the number of channels per row.</param>
    /// <param name="parallelism">Threads to use.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="channels"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A span's length does not match the shape.</exception>
    public static unsafe void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> output, Span<float> mean, Span<float> reciprocalStandardDeviation, int rows, int channels, Parallelism parallelism)
    {
        CheckForward(input, scale, shift, output, mean, reciprocalStandardDeviation, rows, channels);
        var length = rows * channels;
        fixed (float* inputPointer = input, scalePointer = scale, shiftPointer = shift, outputPointer = output, meanPointer = mean, reciprocalPointer = reciprocalStandardDeviation)
        {
            float* inputAddress = inputPointer, scaleAddress = scalePointer, shiftAddress = shiftPointer, outputAddress = outputPointer, meanAddress = meanPointer, reciprocalAddress = reciprocalPointer;
            parallelism.For(rows, (start, end) => ForwardRows(
                new ReadOnlySpan<float>(inputAddress, length), new ReadOnlySpan<float>(scaleAddress, channels), new ReadOnlySpan<float>(shiftAddress, channels),
                new Span<float>(outputAddress, length), new Span<float>(meanAddress, rows), new Span<float>(reciprocalAddress, rows), channels, start, end),
                Math.Max(1, MinimumChunkElements / channels));
        }
    }

    /// <summary>Adds the gradients of the loss with respect to the input, scale and shift.</summary>
    /// <param name="outputGradient">Gradient with respect to the output, N×C.</param>
    /// <param name="input">The forward input, N×C.</param>
    /// <param name="scale">Learned scale, C.</param>
    /// <param name="mean">Per-row mean saved by forward, N.</param>
    /// <param name="reciprocalStandardDeviation">Per-row <c>1/√(var + eps)</c> saved by forward, N.</param>
    /// <param name="inputGradient">Accumulated (<c>+=</c>), N×C, or empty to skip.</param>
    /// <param name="scaleGradient">Accumulated (<c>+=</c>), C, or empty to skip.</param>
    /// <param name="shiftGradient">Accumulated (<c>+=</c>), C, or empty to skip.</param>
    /// <param name="rows">N, the number of rows.</param>
    /// <param name="channels">C, the number of channels per row.</param>
    /// <param name="parallelism">Threads to use.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="channels"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A (non-empty) span's length does not match the shape.</exception>
    public static unsafe void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> mean, ReadOnlySpan<float> reciprocalStandardDeviation, Span<float> inputGradient, Span<float> scaleGradient, Span<float> shiftGradient, int rows, int channels, Parallelism parallelism)
    {
        CheckBackward(outputGradient, input, scale, mean, reciprocalStandardDeviation, inputGradient, scaleGradient, shiftGradient, rows, channels);
        var hasInputGradient = !inputGradient.IsEmpty;
        var hasScaleGradient = !scaleGradient.IsEmpty;
        var hasShiftGradient = !shiftGradient.IsEmpty;
        if (!hasInputGradient && !hasScaleGradient && !hasShiftGradient) return;

        var length = rows * channels;
        var blockCount = Math.Clamp(rows / MinimumBlockRows, 1, MaximumBlocks);
        // Per block of rows: a scale partial then a shift partial, each C long.
        var partialLength = blockCount * 2 * channels;
        var partials = hasScaleGradient || hasShiftGradient ? ArrayPool<float>.Shared.Rent(partialLength) : null;
        try
        {
            fixed (float* outputGradientPointer = outputGradient, inputPointer = input, scalePointer = scale, meanPointer = mean, reciprocalPointer = reciprocalStandardDeviation, inputGradientPointer = inputGradient, partialsPointer = partials)
            {
                float* outputGradientAddress = outputGradientPointer, inputAddress = inputPointer, scaleAddress = scalePointer, meanAddress = meanPointer,
                    reciprocalAddress = reciprocalPointer, inputGradientAddress = inputGradientPointer, partialsAddress = partialsPointer;
                parallelism.For(blockCount, (firstBlock, endBlock) =>
                {
                    var scratch = ArrayPool<float>.Shared.Rent(2 * channels);
                    try
                    {
                        for (var block = firstBlock; block < endBlock; block++)
                        {
                            var start = (int)((long)rows * block / blockCount);
                            var end = (int)((long)rows * (block + 1) / blockCount);
                            var scalePartial = partialsAddress == null ? default : new Span<float>(partialsAddress + block * 2 * channels, channels);
                            var shiftPartial = partialsAddress == null ? default : new Span<float>(partialsAddress + (block * 2 + 1) * channels, channels);
                            scalePartial.Clear();
                            shiftPartial.Clear();
                            BackwardRows(
                                new ReadOnlySpan<float>(outputGradientAddress, length), new ReadOnlySpan<float>(inputAddress, length), new ReadOnlySpan<float>(scaleAddress, channels),
                                new ReadOnlySpan<float>(meanAddress, rows), new ReadOnlySpan<float>(reciprocalAddress, rows),
                                hasInputGradient ? new Span<float>(inputGradientAddress, length) : default,
                                hasScaleGradient ? scalePartial : default, hasShiftGradient ? shiftPartial : default,
                                scratch.AsSpan(0, 2 * channels), channels, start, end);
                        }
                    }
                    finally
                    {
                        ArrayPool<float>.Shared.Return(scratch);
                    }
                }, Math.Max(1, MinimumChunkElements / Math.Max(1, rows / blockCount * channels)));
            }

            if (partials is not null) AddPartials(partials, blockCount, channels, scaleGradient, shiftGradient);
        }
        finally
        {
            if (partials is not null) ArrayPool<float>.Shared.Return(partials);
        }
    }

    private static void ForwardRows(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> output, Span<float> mean, Span<float> reciprocalStandardDeviation, int channels, int start, int end)
    {
        for (var row = start; row < end; row++)
        {
            var x = input.Slice(row * channels, channels);
            var y = output.Slice(row * channels, channels);
            var rowMean = TensorPrimitives.Sum(x) / channels;
            TensorPrimitives.Subtract(x, rowMean, y);
            var variance = TensorPrimitives.SumOfSquares(y) / channels;
            var reciprocal = 1f / MathF.Sqrt(variance + Epsilon);
            TensorPrimitives.Multiply(y, reciprocal, y);
            TensorPrimitives.MultiplyAdd(y, scale, shift, y);
            mean[row] = rowMean;
            reciprocalStandardDeviation[row] = reciprocal;
        }
    }

    private static void BackwardRows(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> mean, ReadOnlySpan<float> reciprocalStandardDeviation,
        Span<float> inputGradient, Span<float> scalePartial, Span<float> shiftPartial, Span<float> scratch, int channels, int start, int end)
    {
        var normalized = scratch[..channels];
        var scaledGradient = scratch.Slice(channels, channels);
        for (var row = start; row < end; row++)
        {
            var dy = outputGradient.Slice(row * channels, channels);
            var x = input.Slice(row * channels, channels);
            var reciprocal = reciprocalStandardDeviation[row];
            TensorPrimitives.Subtract(x, mean[row], normalized);
            TensorPrimitives.Multiply(normalized, reciprocal, normalized);
            if (!scalePartial.IsEmpty) TensorPrimitives.MultiplyAdd(dy, normalized, scalePartial, scalePartial);
            if (!shiftPartial.IsEmpty) TensorPrimitives.Add(shiftPartial, dy, shiftPartial);
            if (inputGradient.IsEmpty) continue;

            TensorPrimitives.Multiply(dy, scale, scaledGradient);
            var scaledGradientMean = TensorPrimitives.Sum(scaledGradient) / channels;
            var projectionMean = TensorPrimitives.Dot(scaledGradient, normalized) / channels;
            // dx += r·(g − mean(g) − n·mean(g·n))
            TensorPrimitives.Subtract(scaledGradient, scaledGradientMean, scaledGradient);
            TensorPrimitives.MultiplyAdd(normalized, -projectionMean, scaledGradient, scaledGradient);
            var dx = inputGradient.Slice(row * channels, channels);
            TensorPrimitives.MultiplyAdd(scaledGradient, reciprocal, dx, dx);
        }
    }

    // Adds the block partials in block order: the result depends on the number of rows only.
    private static void AddPartials(float[] partials, int blockCount, int channels, Span<float> scaleGradient, Span<float> shiftGradient)
    {
        var sums = partials.AsSpan(0, 2 * channels);
        for (var block = 1; block < blockCount; block++)
            TensorPrimitives.Add(sums, partials.AsSpan(block * 2 * channels, 2 * channels), sums);
        if (!scaleGradient.IsEmpty) TensorPrimitives.Add(scaleGradient, sums[..channels], scaleGradient);
        if (!shiftGradient.IsEmpty) TensorPrimitives.Add(shiftGradient, sums.Slice(channels, channels), shiftGradient);
    }

    private static void CheckForward(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, ReadOnlySpan<float> output, ReadOnlySpan<float> mean, ReadOnlySpan<float> reciprocalStandardDeviation, int rows, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        var length = (long)rows * channels;
        RequireLength(input.Length, length, nameof(input));
        RequireLength(scale.Length, channels, nameof(scale));
        RequireLength(shift.Length, channels, nameof(shift));
        RequireLength(output.Length, length, nameof(output));
        RequireLength(mean.Length, rows, nameof(mean));
        RequireLength(reciprocalStandardDeviation.Length, rows, nameof(reciprocalStandardDeviation));
    }

    private static void CheckBackward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> mean, ReadOnlySpan<float> reciprocalStandardDeviation,
        ReadOnlySpan<float> inputGradient, ReadOnlySpan<float> scaleGradient, ReadOnlySpan<float> shiftGradient, int rows, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        var length = (long)rows * channels;
        RequireLength(outputGradient.Length, length, nameof(outputGradient));
        RequireLength(input.Length, length, nameof(input));
        RequireLength(scale.Length, channels, nameof(scale));
        RequireLength(mean.Length, rows, nameof(mean));
        RequireLength(reciprocalStandardDeviation.Length, rows, nameof(reciprocalStandardDeviation));
        if (!inputGradient.IsEmpty) RequireLength(inputGradient.Length, length, nameof(inputGradient));
        if (!scaleGradient.IsEmpty) RequireLength(scaleGradient.Length, channels, nameof(scaleGradient));
        if (!shiftGradient.IsEmpty) RequireLength(shiftGradient.Length, channels, nameof(shiftGradient));
    }

    private static void RequireLength(int actual, long expected, string name)
    {
        if (actual != expected) throw new ArgumentException($"Expected {expected} elements, got {actual}.", name);
    }

    /// <summary>Plain single-threaded loops: the specification the fast kernel is tested against.</summary>
    public static class Reference
    {
        /// <summary>Normalises each row; see <see cref="LayerNorm.Forward"/>.</summary>
        /// <param name="input">Input, N×C.</param>
        /// <param name="scale">Learned scale, C.</param>
        /// <param name="shift">Learned shift, C.</param>
        /// <param name="output">Destination, N×C (overwritten).</param>
        /// <param name="mean">Per-row mean, N (overwritten).</param>
        /// <param name="reciprocalStandardDeviation">Per-row <c>1/√(var + eps)</c>, N (overwritten).</param>
        /// <param name="rows">N.</param>
        /// <param name="channels">C.</param>
        public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> output, Span<float> mean, Span<float> reciprocalStandardDeviation, int rows, int channels)
        {
            CheckForward(input, scale, shift, output, mean, reciprocalStandardDeviation, rows, channels);
            for (var row = 0; row < rows; row++)
            {
                var offset = row * channels;
                var sum = 0f;
                for (var channel = 0; channel < channels; channel++) sum += input[offset + channel];
                var rowMean = sum / channels;
                var squares = 0f;
                for (var channel = 0; channel < channels; channel++)
                {
                    var centered = input[offset + channel] - rowMean;
                    squares += centered * centered;
                }

                var reciprocal = 1f / MathF.Sqrt(squares / channels + Epsilon);
                for (var channel = 0; channel < channels; channel++)
                    output[offset + channel] = (input[offset + channel] - rowMean) * reciprocal * scale[channel] + shift[channel];
                mean[row] = rowMean;
                reciprocalStandardDeviation[row] = reciprocal;
            }
        }

        /// <summary>Adds the input, scale and shift gradients; see <see cref="LayerNorm.Backward"/>.</summary>
        /// <param name="outputGradient">Gradient with respect to the output, N×C.</param>
        /// <param name="input">The forward input, N×C.</param>
        /// <param name="scale">Learned scale, C.</param>
        /// <param name="mean">Per-row mean saved by forward, N.</param>
        /// <param name="reciprocalStandardDeviation">Per-row reciprocal standard deviation saved by forward, N.</param>
        /// <param name="inputGradient">Accumulated, N×C, or empty to skip.</param>
        /// <param name="scaleGradient">Accumulated, C, or empty to skip.</param>
        /// <param name="shiftGradient">Accumulated, C, or empty to skip.</param>
        /// <param name="rows">N.</param>
        /// <param name="channels">C.</param>
        public static void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> mean, ReadOnlySpan<float> reciprocalStandardDeviation, Span<float> inputGradient, Span<float> scaleGradient, Span<float> shiftGradient, int rows, int channels)
        {
            CheckBackward(outputGradient, input, scale, mean, reciprocalStandardDeviation, inputGradient, scaleGradient, shiftGradient, rows, channels);
            for (var row = 0; row < rows; row++)
            {
                var offset = row * channels;
                var rowMean = mean[row];
                var reciprocal = reciprocalStandardDeviation[row];
                var scaledGradientSum = 0f;
                var projectionSum = 0f;
                for (var channel = 0; channel < channels; channel++)
                {
                    var normalized = (input[offset + channel] - rowMean) * reciprocal;
                    var scaledGradient = outputGradient[offset + channel] * scale[channel];
                    scaledGradientSum += scaledGradient;
                    projectionSum += scaledGradient * normalized;
                }

                var scaledGradientMean = scaledGradientSum / channels;
                var projectionMean = projectionSum / channels;
                for (var channel = 0; channel < channels; channel++)
                {
                    var normalized = (input[offset + channel] - rowMean) * reciprocal;
                    var dy = outputGradient[offset + channel];
                    if (!scaleGradient.IsEmpty) scaleGradient[channel] += dy * normalized;
                    if (!shiftGradient.IsEmpty) shiftGradient[channel] += dy;
                    if (!inputGradient.IsEmpty)
                        inputGradient[offset + channel] += (dy * scale[channel] - scaledGradientMean - normalized * projectionMean) * reciprocal;
                }
            }
        }
    }
}
