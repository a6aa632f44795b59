using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
    public static void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> mean, ReadOnlySpan<float> reciprocalStandardDeviation, Span<float> inputGradient, Span<float> scaleGradient, Span<float> shiftGradient, int rows, int channels, Parallelism parallelism) =>
        Backward(outputGradient, input, scale, mean, reciprocalStandardDeviation, inputGradient, inputGradient, scaleGradient, shiftGradient, rows, channels, parallelism);

    /// <summary>
    /// As the public <c>Backward</c>, but writes <c>inputGradient = residualGradient + dx</c> instead of adding dx to
    /// <paramref name="inputGradient"/>: a pre-LN block's residual branch joins its layer norm's gradient in the same
    /// pass, with no copy first. <paramref name="residualGradient"/> may be <paramref name="inputGradient"/> itself
    /// (plain accumulation, the public form) or empty (<c>inputGradient = dx</c>: the same bits as clearing first);
    /// scale and shift gradients still accumulate.
    /// </summary>
    internal static unsafe void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> mean, ReadOnlySpan<float> reciprocalStandardDeviation, ReadOnlySpan<float> residualGradient, Span<float> inputGradient, Span<float> scaleGradient, Span<float> shiftGradient, int rows, int channels, Parallelism parallelism)
    {
        CheckBackward(outputGradient, input, scale, mean, reciprocalStandardDeviation, inputGradient, scaleGradient, shiftGradient, rows, channels);
        if (!inputGradient.IsEmpty && !residualGradient.IsEmpty) KernelGuard.RequireLength(residualGradient.Length, (long)rows * channels, nameof(residualGradient));
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
            fixed (float* outputGradientPointer = outputGradient, inputPointer = input, scalePointer = scale, meanPointer = mean, reciprocalPointer = reciprocalStandardDeviation, residualGradientPointer = residualGradient, inputGradientPointer = inputGradient, partialsPointer = partials)
            {
                float* outputGradientAddress = outputGradientPointer, inputAddress = inputPointer, scaleAddress = scalePointer, meanAddress = meanPointer,
                    reciprocalAddress = reciprocalPointer, residualGradientAddress = residualGradientPointer, inputGradientAddress = inputGradientPointer, partialsAddress = partialsPointer;
                parallelism.For(blockCount, (firstBlock, endBlock) =>
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
                            hasInputGradient && residualGradientAddress != null ? new ReadOnlySpan<float>(residualGradientAddress, length) : default,
                            hasInputGradient ? new Span<float>(inputGradientAddress, length) : default, scalePartial, shiftPartial, channels, start, end);
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
            var rowMean = TensorPrimitives.Sum(x) / channels;
            var reciprocal = 1f / MathF.Sqrt(SumOfSquaredDeviations(x, rowMean) / channels + Epsilon);
            NormalizeRow(x, scale, shift, output.Slice(row * channels, channels), rowMean, reciprocal);
            mean[row] = rowMean;
            reciprocalStandardDeviation[row] = reciprocal;
        }
    }

    private static void BackwardRows(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> mean, ReadOnlySpan<float> reciprocalStandardDeviation,
        ReadOnlySpan<float> residualGradient, Span<float> inputGradient, Span<float> scalePartial, Span<float> shiftPartial, int channels, int start, int end)
    {
        for (var row = start; row < end; row++)
        {
            var dy = outputGradient.Slice(row * channels, channels);
            var x = input.Slice(row * channels, channels);
            var rowMean = mean[row];
            var reciprocal = reciprocalStandardDeviation[row];
            if (!scalePartial.IsEmpty) AccumulateColumnSums(dy, x, rowMean, reciprocal, scalePartial, shiftPartial);
            if (inputGradient.IsEmpty) continue;
            var (scaledGradientSum, projectionSum) = GradientSums(dy, x, scale, rowMean, reciprocal);
            AccumulateInputGradient(dy, x, scale, rowMean, reciprocal, scaledGradientSum / channels, projectionSum / channels, residualGradient.IsEmpty ? default : residualGradient.Slice(row * channels, channels), inputGradient.Slice(row * channels, channels));
        }
    }

    // The row kernels below fuse what would be several TensorPrimitives passes into one loop each; a row of
    // C = 256 floats stays in L1, so the passes, not the arithmetic, set the cost. Each has a 512-bit tier,
    // a Vector<float> tier (256 or 128 bits) and a scalar tail, with the reference's order of operations.

    // Σ (x − μ)²
    private static float SumOfSquaredDeviations(ReadOnlySpan<float> x, float mean)
    {
        ref var source = ref MemoryMarshal.GetReference(x);
        nuint length = (nuint)x.Length, index = 0;
        var total = 0f;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
        {
            var center = Vector512.Create(mean);
            var accumulator = Vector512<float>.Zero;
            for (; index + (nuint)Vector512<float>.Count <= length; index += (nuint)Vector512<float>.Count)
            {
                var deviation = Vector512.LoadUnsafe(ref source, index) - center;
                accumulator += deviation * deviation;
            }

            total += Vector512.Sum(accumulator);
        }

        if (Vector.IsHardwareAccelerated && length - index >= (nuint)Vector<float>.Count)
        {
            var center = new Vector<float>(mean);
            var accumulator = Vector<float>.Zero;
            for (; index + (nuint)Vector<float>.Count <= length; index += (nuint)Vector<float>.Count)
            {
                var deviation = Vector.LoadUnsafe(ref source, index) - center;
                accumulator += deviation * deviation;
            }

            total += Vector.Sum(accumulator);
        }

        for (; index < length; index++)
        {
            var deviation = Unsafe.Add(ref source, index) - mean;
            total += deviation * deviation;
        }

        return total;
    }

    // y = (x − μ)·r·scale + shift
    private static void NormalizeRow(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y, float mean, float reciprocal)
    {
        ref var source = ref MemoryMarshal.GetReference(x);
        ref var gamma = ref MemoryMarshal.GetReference(scale);
        ref var beta = ref MemoryMarshal.GetReference(shift);
        ref var destination = ref MemoryMarshal.GetReference(y);
        nuint length = (nuint)x.Length, index = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var (center, factor) = (Vector512.Create(mean), Vector512.Create(reciprocal));
            for (; index + (nuint)Vector512<float>.Count <= length; index += (nuint)Vector512<float>.Count)
            {
                var normalized = (Vector512.LoadUnsafe(ref source, index) - center) * factor;
                (normalized * Vector512.LoadUnsafe(ref gamma, index) + Vector512.LoadUnsafe(ref beta, index)).StoreUnsafe(ref destination, index);
            }
        }

        if (Vector.IsHardwareAccelerated)
        {
            var (center, factor) = (new Vector<float>(mean), new Vector<float>(reciprocal));
            for (; index + (nuint)Vector<float>.Count <= length; index += (nuint)Vector<float>.Count)
            {
                var normalized = (Vector.LoadUnsafe(ref source, index) - center) * factor;
                (normalized * Vector.LoadUnsafe(ref gamma, index) + Vector.LoadUnsafe(ref beta, index)).StoreUnsafe(ref destination, index);
            }
        }

        for (; index < length; index++)
            Unsafe.Add(ref destination, index) = (Unsafe.Add(ref source, index) - mean) * reciprocal * Unsafe.Add(ref gamma, index) + Unsafe.Add(ref beta, index);
    }

    // scalePartial += dy·n, shiftPartial += dy, with n = (x − μ)·r
    private static void AccumulateColumnSums(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float mean, float reciprocal, Span<float> scalePartial, Span<float> shiftPartial)
    {
        ref var incoming = ref MemoryMarshal.GetReference(dy);
        ref var source = ref MemoryMarshal.GetReference(x);
        ref var scaleSum = ref MemoryMarshal.GetReference(scalePartial);
        ref var shiftSum = ref MemoryMarshal.GetReference(shiftPartial);
        nuint length = (nuint)x.Length, index = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var (center, factor) = (Vector512.Create(mean), Vector512.Create(reciprocal));
            for (; index + (nuint)Vector512<float>.Count <= length; index += (nuint)Vector512<float>.Count)
            {
                var gradient = Vector512.LoadUnsafe(ref incoming, index);
                var normalized = (Vector512.LoadUnsafe(ref source, index) - center) * factor;
                (Vector512.LoadUnsafe(ref scaleSum, index) + gradient * normalized).StoreUnsafe(ref scaleSum, index);
                (Vector512.LoadUnsafe(ref shiftSum, index) + gradient).StoreUnsafe(ref shiftSum, index);
            }
        }

        if (Vector.IsHardwareAccelerated)
        {
            var (center, factor) = (new Vector<float>(mean), new Vector<float>(reciprocal));
            for (; index + (nuint)Vector<float>.Count <= length; index += (nuint)Vector<float>.Count)
            {
                var gradient = Vector.LoadUnsafe(ref incoming, index);
                var normalized = (Vector.LoadUnsafe(ref source, index) - center) * factor;
                (Vector.LoadUnsafe(ref scaleSum, index) + gradient * normalized).StoreUnsafe(ref scaleSum, index);
                (Vector.LoadUnsafe(ref shiftSum, index) + gradient).StoreUnsafe(ref shiftSum, index);
            }
        }

        for (; index < length; index++)
        {
            var gradient = Unsafe.Add(ref incoming, index);
            Unsafe.Add(ref scaleSum, index) += gradient * ((Unsafe.Add(ref source, index) - mean) * reciprocal);
            Unsafe.Add(ref shiftSum, index) += gradient;
        }
    }

    // (Σ g, Σ g·n) with g = dy·scale, n = (x − μ)·r
    private static (float ScaledGradientSum, float ProjectionSum) GradientSums(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> scale, float mean, float reciprocal)
    {
        ref var incoming = ref MemoryMarshal.GetReference(dy);
        ref var source = ref MemoryMarshal.GetReference(x);
        ref var gamma = ref MemoryMarshal.GetReference(scale);
        nuint length = (nuint)x.Length, index = 0;
        float scaledGradientSum = 0f, projectionSum = 0f;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
        {
            var (center, factor) = (Vector512.Create(mean), Vector512.Create(reciprocal));
            var (gradientAccumulator, projectionAccumulator) = (Vector512<float>.Zero, Vector512<float>.Zero);
            for (; index + (nuint)Vector512<float>.Count <= length; index += (nuint)Vector512<float>.Count)
            {
                var scaled = Vector512.LoadUnsafe(ref incoming, index) * Vector512.LoadUnsafe(ref gamma, index);
                gradientAccumulator += scaled;
                projectionAccumulator += scaled * ((Vector512.LoadUnsafe(ref source, index) - center) * factor);
            }

            scaledGradientSum += Vector512.Sum(gradientAccumulator);
            projectionSum += Vector512.Sum(projectionAccumulator);
        }

        if (Vector.IsHardwareAccelerated && length - index >= (nuint)Vector<float>.Count)
        {
            var (center, factor) = (new Vector<float>(mean), new Vector<float>(reciprocal));
            var (gradientAccumulator, projectionAccumulator) = (Vector<float>.Zero, Vector<float>.Zero);
            for (; index + (nuint)Vector<float>.Count <= length; index += (nuint)Vector<float>.Count)
            {
                var scaled = Vector.LoadUnsafe(ref incoming, index) * Vector.LoadUnsafe(ref gamma, index);
                gradientAccumulator += scaled;
                projectionAccumulator += scaled * ((Vector.LoadUnsafe(ref source, index) - center) * factor);
            }

            scaledGradientSum += Vector.Sum(gradientAccumulator);
            projectionSum += Vector.Sum(projectionAccumulator);
        }

        for (; index < length; index++)
        {
            var scaled = Unsafe.Add(ref incoming, index) * Unsafe.Add(ref gamma, index);
            scaledGradientSum += scaled;
            projectionSum += scaled * ((Unsafe.Add(ref source, index) - mean) * reciprocal);
        }

        return (scaledGradientSum, projectionSum);
    }

    // dx = residual + (dy·scale − mean(g) − n·mean(g·n))·r, where residual is dx itself when accumulating and 0 when empty
    private static void AccumulateInputGradient(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> scale, float mean, float reciprocal, float scaledGradientMean, float projectionMean, ReadOnlySpan<float> residual, Span<float> dx)
    {
        var overwrite = residual.IsEmpty;
        ref var addend = ref MemoryMarshal.GetReference(residual);
        ref var incoming = ref MemoryMarshal.GetReference(dy);
        ref var source = ref MemoryMarshal.GetReference(x);
        ref var gamma = ref MemoryMarshal.GetReference(scale);
        ref var destination = ref MemoryMarshal.GetReference(dx);
        nuint length = (nuint)x.Length, index = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var (center, factor) = (Vector512.Create(mean), Vector512.Create(reciprocal));
            var (gradientMean, projection) = (Vector512.Create(scaledGradientMean), Vector512.Create(projectionMean));
            for (; index + (nuint)Vector512<float>.Count <= length; index += (nuint)Vector512<float>.Count)
            {
                var normalized = (Vector512.LoadUnsafe(ref source, index) - center) * factor;
                var scaled = Vector512.LoadUnsafe(ref incoming, index) * Vector512.LoadUnsafe(ref gamma, index);
                ((overwrite ? Vector512<float>.Zero : Vector512.LoadUnsafe(ref addend, index)) + (scaled - gradientMean - normalized * projection) * factor).StoreUnsafe(ref destination, index);
            }
        }

        if (Vector.IsHardwareAccelerated)
        {
            var (center, factor) = (new Vector<float>(mean), new Vector<float>(reciprocal));
            var (gradientMean, projection) = (new Vector<float>(scaledGradientMean), new Vector<float>(projectionMean));
            for (; index + (nuint)Vector<float>.Count <= length; index += (nuint)Vector<float>.Count)
            {
                var normalized = (Vector.LoadUnsafe(ref source, index) - center) * factor;
                var scaled = Vector.LoadUnsafe(ref incoming, index) * Vector.LoadUnsafe(ref gamma, index);
                ((overwrite ? Vector<float>.Zero : Vector.LoadUnsafe(ref addend, index)) + (scaled - gradientMean - normalized * projection) * factor).StoreUnsafe(ref destination, index);
            }
        }

        for (; index < length; index++)
        {
            var normalized = (Unsafe.Add(ref source, index) - mean) * reciprocal;
            var scaled = Unsafe.Add(ref incoming, index) * Unsafe.Add(ref gamma, index);
            Unsafe.Add(ref destination, index) = (overwrite ? 0f : Unsafe.Add(ref addend, index)) + (scaled - scaledGradientMean - normalized * projectionMean) * reciprocal;
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
        KernelGuard.RequireLength(input.Length, length, nameof(input));
        KernelGuard.RequireLength(scale.Length, channels, nameof(scale));
        KernelGuard.RequireLength(shift.Length, channels, nameof(shift));
        KernelGuard.RequireLength(output.Length, length, nameof(output));
        KernelGuard.RequireLength(mean.Length, rows, nameof(mean));
        KernelGuard.RequireLength(reciprocalStandardDeviation.Length, rows, nameof(reciprocalStandardDeviation));
    }

    private static void CheckBackward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> mean, ReadOnlySpan<float> reciprocalStandardDeviation,
        ReadOnlySpan<float> inputGradient, ReadOnlySpan<float> scaleGradient, ReadOnlySpan<float> shiftGradient, int rows, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        var length = (long)rows * channels;
        KernelGuard.RequireLength(outputGradient.Length, length, nameof(outputGradient));
        KernelGuard.RequireLength(input.Length, length, nameof(input));
        KernelGuard.RequireLength(scale.Length, channels, nameof(scale));
        KernelGuard.RequireLength(mean.Length, rows, nameof(mean));
        KernelGuard.RequireLength(reciprocalStandardDeviation.Length, rows, nameof(reciprocalStandardDeviation));
        if (!inputGradient.IsEmpty) KernelGuard.RequireLength(inputGradient.Length, length, nameof(inputGradient));
        if (!scaleGradient.IsEmpty) KernelGuard.RequireLength(scaleGradient.Length, channels, nameof(scaleGradient));
        if (!shiftGradient.IsEmpty) KernelGuard.RequireLength(shiftGradient.Length, channels, nameof(shiftGradient));
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

        /// <summary>Adds the input, scale and shift gradients; see <see cref="LayerNorm.Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, int, int, Parallelism)"/>.</summary>
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
