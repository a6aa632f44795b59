namespace Pipelines.Components.Kernels;

public static partial class Attention
{
    /// <summary>The sizes every attention loop needs, derived once.</summary>
    private readonly record struct AttentionShape(int BatchSize, int TokenCount, int Channels, int HeadCount)
    {
        /// <summary>hs = C / H.</summary>
        public int HeadSize => Channels / HeadCount;

        /// <summary>3C: the distance between two tokens' rows of qkv.</summary>
        public int RowStride => 3 * Channels;

        /// <summary>1 / √hs.</summary>
        public float Scale => 1f / MathF.Sqrt(HeadSize);
    }

    private static void ValidateForward(ReadOnlySpan<float> qkv, ReadOnlySpan<byte> keyMask, Span<float> output, Span<float> probabilities,
        int batchSize, int tokenCount, int channels, int headCount, bool causal)
    {
        ValidateSizes(batchSize, tokenCount, channels, headCount);
        KernelGuard.RequireLength(qkv.Length, 3L * batchSize * tokenCount * channels, nameof(qkv), "B·T·3C");
        if (!keyMask.IsEmpty) KernelGuard.RequireLength(keyMask.Length, (long)batchSize * tokenCount, nameof(keyMask), "B·T (or 0)");
        KernelGuard.RequireLength(output.Length, (long)batchSize * tokenCount * channels, nameof(output), "B·T·C");
        KernelGuard.RequireLength(probabilities.Length, (long)batchSize * headCount * tokenCount * tokenCount, nameof(probabilities), "B·H·T·T");
        if (keyMask.IsEmpty) return;

        for (var index = 0; index < keyMask.Length; index++)
        {
            if (keyMask[index] > 1)
                throw new ArgumentOutOfRangeException(nameof(keyMask), keyMask[index], $"keyMask[{index}] is {keyMask[index]}; expected 0 (padding) or 1 (valid).");
        }

        // Checked here, before any work, so that no row is left as 0/0 and the exception is not wrapped by threads.
        for (var batch = 0; batch < batchSize; batch++)
        {
            var mask = keyMask.Slice(batch * tokenCount, tokenCount);
            if (causal && mask[0] == 0)
                throw new ArgumentException($"keyMask: batch {batch}, query 0 has no visible key (causal attention needs key 0 to be valid).", nameof(keyMask));
            if (!causal && !mask.Contains((byte)1))
                throw new ArgumentException($"keyMask: batch {batch} has no valid key, so its queries have nothing to attend to.", nameof(keyMask));
        }
    }

    private static void ValidateBackward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> qkv, ReadOnlySpan<float> probabilities,
        Span<float> qkvGradient, int batchSize, int tokenCount, int channels, int headCount)
    {
        ValidateSizes(batchSize, tokenCount, channels, headCount);
        KernelGuard.RequireLength(outputGradient.Length, (long)batchSize * tokenCount * channels, nameof(outputGradient), "B·T·C");
        KernelGuard.RequireLength(qkv.Length, 3L * batchSize * tokenCount * channels, nameof(qkv), "B·T·3C");
        KernelGuard.RequireLength(probabilities.Length, (long)batchSize * headCount * tokenCount * tokenCount, nameof(probabilities), "B·H·T·T");
        if (!qkvGradient.IsEmpty) KernelGuard.RequireLength(qkvGradient.Length, 3L * batchSize * tokenCount * channels, nameof(qkvGradient), "B·T·3C (or 0)");
    }

    private static void ValidateSizes(int batchSize, int tokenCount, int channels, int headCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokenCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headCount);
        if (channels % headCount != 0)
            throw new ArgumentException($"headCount ({headCount}) must divide channels ({channels}).", nameof(headCount));
    }
}
