using Pipelines.Components.Compute;

namespace Pipelines.Components.Training;

/// <summary>How a <see cref="SequenceBatchSampler"/> picks the examples of each step.</summary>
public enum BatchSampling
{
    /// <summary>
    /// Every example once per epoch, in an order shuffled anew for each epoch; batches run across epoch boundaries,
    /// so all batches are full.
    /// </summary>
    ShuffledEpochs,

    /// <summary>Every example of a batch drawn uniformly at random, independently (with replacement).</summary>
    WithReplacement,
}

/// <summary>
/// Chooses the examples of each training step so that any step's batch is known without replaying earlier
/// steps: the choice is a pure function of the seed, the step and the example count.
/// </summary>
/// <remarks>
/// <see cref="BatchSampling.WithReplacement"/>: step s draws its B indices from <c>SeededRandom.ForStream(seed, s)</c>,
/// as <see cref="TokenBatchSampler"/> does. <see cref="BatchSampling.ShuffledEpochs"/>: slot b of step s is position
/// <c>p = s·B + b</c> of the endless sequence of epochs; epoch <c>e = p / N</c> is a Fisher-Yates shuffle of 0..N-1 drawn
/// from <c>SeededRandom.ForStream(seed, e)</c> and the slot takes its element <c>p mod N</c>. The last two epochs'
/// orders are cached; the class is not thread-safe.
/// </remarks>
public sealed class SequenceBatchSampler
{
    private readonly (long Epoch, int[] Order)[] cache = [(-1, []), (-1, [])];
    private int nextCacheSlot;

    /// <summary>Creates a sampler over <paramref name="exampleCount"/> examples.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is below 1, or <paramref name="sampling"/> is not defined.</exception>
    public SequenceBatchSampler(int exampleCount, int batchSize, BatchSampling sampling, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(exampleCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (!Enum.IsDefined(sampling)) throw new ArgumentOutOfRangeException(nameof(sampling), sampling, "Unknown batch sampling.");
        ExampleCount = exampleCount;
        BatchSize = batchSize;
        Sampling = sampling;
        Seed = seed;
    }

    /// <summary>Examples to choose from (N).</summary>
    public int ExampleCount { get; }

    /// <summary>Examples per batch (B).</summary>
    public int BatchSize { get; }

    /// <summary>How examples are picked.</summary>
    public BatchSampling Sampling { get; }

    /// <summary>The sampler's seed.</summary>
    public ulong Seed { get; }

    /// <summary>Writes the <see cref="BatchSize"/> example indices of step <paramref name="step"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="exampleIndices"/> is not <see cref="BatchSize"/> long.</exception>
    public void Sample(long step, Span<int> exampleIndices)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (exampleIndices.Length != BatchSize)
            throw new ArgumentException($"'{nameof(exampleIndices)}' has {exampleIndices.Length} elements; the batch has {BatchSize}.", nameof(exampleIndices));
        if (Sampling == BatchSampling.WithReplacement)
        {
            var random = SeededRandom.ForStream(Seed, (ulong)step);
            for (var slot = 0; slot < BatchSize; slot++) exampleIndices[slot] = random.NextInt32(ExampleCount);
            return;
        }

        for (var slot = 0; slot < BatchSize; slot++)
        {
            var position = step * BatchSize + slot;
            exampleIndices[slot] = EpochOrder(position / ExampleCount)[(int)(position % ExampleCount)];
        }
    }

    private int[] EpochOrder(long epoch)
    {
        foreach (var (cachedEpoch, order) in cache)
        {
            if (cachedEpoch == epoch) return order;
        }

        var shuffled = new int[ExampleCount];
        for (var index = 0; index < shuffled.Length; index++) shuffled[index] = index;
        var random = SeededRandom.ForStream(Seed, (ulong)epoch);
        for (var index = shuffled.Length - 1; index > 0; index--)
        {
            var other = random.NextInt32(index + 1);
            (shuffled[index], shuffled[other]) = (shuffled[other], shuffled[index]);
        }

        cache[nextCacheSlot] = (epoch, shuffled);
        nextCacheSlot = 1 - nextCacheSlot;
        return shuffled;
    }
}
