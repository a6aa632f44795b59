namespace Pipelines.Components.Privacy;

/// <summary>Cuts one Poisson batch into chunks that fit in memory, without changing which examples were sampled.</summary>
/// <remarks>
/// The chunks are consecutive pieces of the batch, in order, each at most the maximum size; their clipped
/// per-example gradients are summed across chunks before the single noisy step, so the privacy accounting is that
/// of the whole batch (one step, rate q). An empty batch gives no chunks, but the step still happens: it adds
/// noise to a zero sum (skipping it would reveal that the batch was empty).
/// </remarks>
public static class VirtualBatches
{
    /// <summary>The chunks of <paramref name="batch"/>, each at most <paramref name="maximumChunkSize"/> examples.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maximumChunkSize"/> is below 1.</exception>
    public static IEnumerable<ReadOnlyMemory<int>> Split(ReadOnlyMemory<int> batch, int maximumChunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maximumChunkSize, 1);
        return Chunks(batch, maximumChunkSize);
    }

    /// <summary>How many chunks <see cref="Split"/> makes: <c>ceil(batchSize / maximumChunkSize)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">batchSize is negative or maximumChunkSize is below 1.</exception>
    public static int ChunkCount(int batchSize, int maximumChunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(maximumChunkSize, 1);
        return (int)(((long)batchSize + maximumChunkSize - 1) / maximumChunkSize);
    }

    private static IEnumerable<ReadOnlyMemory<int>> Chunks(ReadOnlyMemory<int> batch, int maximumChunkSize)
    {
        for (var start = 0; start < batch.Length; start += maximumChunkSize)
            yield return batch.Slice(start, Math.Min(maximumChunkSize, batch.Length - start));
    }
}
