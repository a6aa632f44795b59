using System.Numerics.Tensors;
using Pipelines.Components.Compute;

namespace Pipelines.Components.Kernels;

/// <summary>Mean of each sequence's hidden states over its valid (non-padding) tokens.</summary>
/// <remarks>
/// <c>pooled[b] = (1/k_b)·Σ_{t: mask[b,t]=1} hidden[b,t]</c> with <c>k_b</c> the number of valid tokens of
/// sequence b; backward adds <c>pooledGradient[b]/k_b</c> to every valid token's row and nothing to padding.
/// The key mask holds 1 for a valid token and 0 for padding (any other value throws); an empty mask means
/// every token is valid. A sequence with no valid token has no mean and throws.
/// </remarks>
public static class MeanPooling
{
    private const int MinimumChunkElements = 32 * 1024; // a chunk below this costs more to schedule than to run

    /// <summary>Writes the mean over valid tokens of each sequence.</summary>
    /// <param name="hidden">Hidden states, B×T×C.</param>
    /// <param name="keyMask">1 for a valid token, 0 for padding, B×T; or empty when every token is valid.</param>
    /// <param name="pooled">Destination, B×C (overwritten).</param>
    /// <param name="batchSize">B, the number of sequences.</param>
    /// <param name="tokenCount">T, the tokens per sequence.</param>
    /// <param name="channels">C, the channels per token.</param>
    /// <param name="parallelism">Threads to use.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or a mask value is neither 0 nor 1.</exception>
    /// <exception cref="ArgumentException">A span's length does not match the shape, or a sequence has no valid token.</exception>
    public static unsafe void Forward(ReadOnlySpan<float> hidden, ReadOnlySpan<byte> keyMask, Span<float> pooled, int batchSize, int tokenCount, int channels, Parallelism parallelism)
    {
        CheckSizes(batchSize, tokenCount, channels);
        KernelGuard.RequireLength(hidden.Length, (long)batchSize * tokenCount * channels, nameof(hidden));
        KernelGuard.RequireLength(pooled.Length, (long)batchSize * channels, nameof(pooled));
        CheckMask(keyMask, batchSize, tokenCount);
        var hiddenLength = batchSize * tokenCount * channels;
        fixed (float* hiddenPointer = hidden, pooledPointer = pooled)
        fixed (byte* maskPointer = keyMask)
        {
            float* hiddenAddress = hiddenPointer, pooledAddress = pooledPointer;
            var maskAddress = maskPointer;
            var maskLength = keyMask.Length;
            parallelism.For(batchSize, (start, end) =>
            {
                var mask = new ReadOnlySpan<byte>(maskAddress, maskLength);
                for (var batch = start; batch < end; batch++)
                {
                    var sum = new Span<float>(pooledAddress + batch * channels, channels);
                    sum.Clear();
                    var validCount = 0;
                    for (var token = 0; token < tokenCount; token++)
                    {
                        if (!mask.IsEmpty && mask[batch * tokenCount + token] == 0) continue;
                        TensorPrimitives.Add(sum, new ReadOnlySpan<float>(hiddenAddress + (batch * tokenCount + token) * channels, channels), sum);
                        validCount++;
                    }

                    TensorPrimitives.Divide(sum, validCount, sum);
                }
            }, Math.Max(1, MinimumChunkElements / (tokenCount * channels)));
        }
    }

    /// <summary>Adds <c>pooledGradient[b]/k_b</c> to the gradient of every valid token of sequence b.</summary>
    /// <param name="pooledGradient">Gradient with respect to the pooled output, B×C.</param>
    /// <param name="keyMask">The mask given to forward, B×T, or empty.</param>
    /// <param name="hiddenGradient">Accumulated (<c>+=</c>), B×T×C.</param>
    /// <param name="batchSize">B, the number of sequences.</param>
    /// <param name="tokenCount">T, the tokens per sequence.</param>
    /// <param name="channels">C, the channels per token.</param>
    /// <param name="parallelism">Threads to use.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or a mask value is neither 0 nor 1.</exception>
    /// <exception cref="ArgumentException">A span's length does not match the shape, or a sequence has no valid token.</exception>
    public static unsafe void Backward(ReadOnlySpan<float> pooledGradient, ReadOnlySpan<byte> keyMask, Span<float> hiddenGradient, int batchSize, int tokenCount, int channels, Parallelism parallelism)
    {
        CheckSizes(batchSize, tokenCount, channels);
        KernelGuard.RequireLength(pooledGradient.Length, (long)batchSize * channels, nameof(pooledGradient));
        KernelGuard.RequireLength(hiddenGradient.Length, (long)batchSize * tokenCount * channels, nameof(hiddenGradient));
        CheckMask(keyMask, batchSize, tokenCount);
        fixed (float* pooledGradientPointer = pooledGradient, hiddenGradientPointer = hiddenGradient)
        fixed (byte* maskPointer = keyMask)
        {
            float* pooledGradientAddress = pooledGradientPointer, hiddenGradientAddress = hiddenGradientPointer;
            var maskAddress = maskPointer;
            var maskLength = keyMask.Length;
            parallelism.For(batchSize, (start, end) =>
            {
                var mask = new ReadOnlySpan<byte>(maskAddress, maskLength);
                for (var batch = start; batch < end; batch++)
                {
                    var sequenceMask = mask.IsEmpty ? mask : mask.Slice(batch * tokenCount, tokenCount);
                    var weight = 1f / ValidCount(sequenceMask, tokenCount);
                    var incoming = new ReadOnlySpan<float>(pooledGradientAddress + batch * channels, channels);
                    for (var token = 0; token < tokenCount; token++)
                    {
                        if (!sequenceMask.IsEmpty && sequenceMask[token] == 0) continue;
                        var destination = new Span<float>(hiddenGradientAddress + (batch * tokenCount + token) * channels, channels);
                        TensorPrimitives.MultiplyAdd(incoming, weight, destination, destination);
                    }
                }
            }, Math.Max(1, MinimumChunkElements / (tokenCount * channels)));
        }
    }

    private static int ValidCount(ReadOnlySpan<byte> sequenceMask, int tokenCount) =>
        sequenceMask.IsEmpty ? tokenCount : tokenCount - sequenceMask.Count((byte)0);

    private static void CheckSizes(int batchSize, int tokenCount, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokenCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
    }

    private static void CheckMask(ReadOnlySpan<byte> keyMask, int batchSize, int tokenCount)
    {
        if (keyMask.IsEmpty) return;
        KernelGuard.RequireLength(keyMask.Length, (long)batchSize * tokenCount, nameof(keyMask));
        var invalid = keyMask.IndexOfAnyExcept((byte)0, (byte)1);
        if (invalid >= 0)
            throw new ArgumentOutOfRangeException(nameof(keyMask), keyMask[invalid], $"keyMask[{invalid}] = {keyMask[invalid]}; a mask holds 1 (valid) or 0 (padding).");
        for (var batch = 0; batch < batchSize; batch++)
        {
            if (keyMask.Slice(batch * tokenCount, tokenCount).Contains((byte)1)) continue;
            throw new ArgumentException($"Sequence {batch} has no valid token in keyMask, so it has no mean.", nameof(keyMask));
        }
    }

    /// <summary>Plain single-threaded loops: the specification the fast kernel is tested against.</summary>
    public static class Reference
    {
        /// <summary>Writes the mean over valid tokens of each sequence; see <see cref="MeanPooling.Forward"/>.</summary>
        /// <param name="hidden">Hidden states, B×T×C.</param>
        /// <param name="keyMask">1 valid, 0 padding, B×T; or empty when every token is valid.</param>
        /// <param name="pooled">Destination, B×C (overwritten).</param>
        /// <param name="batchSize">B.</param>
        /// <param name="tokenCount">T.</param>
        /// <param name="channels">C.</param>
        public static void Forward(ReadOnlySpan<float> hidden, ReadOnlySpan<byte> keyMask, Span<float> pooled, int batchSize, int tokenCount, int channels)
        {
            CheckSizes(batchSize, tokenCount, channels);
            KernelGuard.RequireLength(hidden.Length, (long)batchSize * tokenCount * channels, nameof(hidden));
            KernelGuard.RequireLength(pooled.Length, (long)batchSize * channels, nameof(pooled));
            CheckMask(keyMask, batchSize, tokenCount);
            for (var batch = 0; batch < batchSize; batch++)
            {
                for (var channel = 0; channel < channels; channel++)
                {
                    var sum = 0f;
                    var validCount = 0;
                    for (var token = 0; token < tokenCount; token++)
                    {
                        if (!keyMask.IsEmpty && keyMask[batch * tokenCount + token] == 0) continue;
                        sum += hidden[(batch * tokenCount + token) * channels + channel];
                        validCount++;
                    }

                    pooled[batch * channels + channel] = sum / validCount;
                }
            }
        }

        /// <summary>Adds each sequence's pooled gradient, divided by its valid count, to its valid tokens; see <see cref="MeanPooling.Backward"/>.</summary>
        /// <param name="pooledGradient">Gradient with respect to the pooled output, B×C.</param>
        /// <param name="keyMask">The mask given to forward, B×T, or empty.</param>
        /// <param name="hiddenGradient">Accumulated, B×T×C.</param>
        /// <param name="batchSize">B.</param>
        /// <param name="tokenCount">T.</param>
        /// <param name="channels">C.</param>
        public static void Backward(ReadOnlySpan<float> pooledGradient, ReadOnlySpan<byte> keyMask, Span<float> hiddenGradient, int batchSize, int tokenCount, int channels)
        {
            CheckSizes(batchSize, tokenCount, channels);
            KernelGuard.RequireLength(pooledGradient.Length, (long)batchSize * channels, nameof(pooledGradient));
            KernelGuard.RequireLength(hiddenGradient.Length, (long)batchSize * tokenCount * channels, nameof(hiddenGradient));
            CheckMask(keyMask, batchSize, tokenCount);
            for (var batch = 0; batch < batchSize; batch++)
            {
                var validCount = 0;
                for (var token = 0; token < tokenCount; token++)
                    if (keyMask.IsEmpty || keyMask[batch * tokenCount + token] != 0) validCount++;
                for (var token = 0; token < tokenCount; token++)
                {
                    if (!keyMask.IsEmpty && keyMask[batch * tokenCount + token] == 0) continue;
                    for (var channel = 0; channel < channels; channel++)
                        hiddenGradient[(batch * tokenCount + token) * channels + channel] += pooledGradient[batch * channels + channel] * (1f / validCount);
                }
            }
        }
    }
}
