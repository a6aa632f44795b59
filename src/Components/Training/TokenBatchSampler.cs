using Pipelines.Components.Compute;

namespace Pipelines.Components.Training;

/// <summary>
/// Draws next-token training batches from one long token stream: sequence b of step s starts at a uniform
/// random offset drawn from stream s of the seed, so any step's batch is known without replaying earlier ones.
/// </summary>
public sealed class TokenBatchSampler
{
    private readonly int[] tokens;

    /// <summary>Creates a sampler over <paramref name="tokens"/>.</summary>
    /// <exception cref="ArgumentException">The stream is shorter than one sequence plus its last target.</exception>
    public TokenBatchSampler(int[] tokens, int batchSize, int sequenceLength, ulong seed)
    {
        this.tokens = tokens ?? throw new ArgumentNullException(nameof(tokens));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequenceLength, 1);
        if (tokens.Length < sequenceLength + 1)
            throw new ArgumentException($"The token stream has {tokens.Length} tokens; a sequence of {sequenceLength} needs at least {sequenceLength + 1}.", nameof(tokens));
        BatchSize = batchSize;
        SequenceLength = sequenceLength;
        Seed = seed;
    }

    /// <summary>Sequences per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Tokens per sequence.</summary>
    public int SequenceLength { get; }

    /// <summary>The sampler's seed.</summary>
    public ulong Seed { get; }

    /// <summary>Tokens in the stream.</summary>
    public int TokenCount => tokens.Length;

    /// <summary>Fills <paramref name="inputs"/> and <paramref name="targets"/> [B, T] with step <paramref name="step"/>'s batch.</summary>
    public void Sample(long step, Span<int> inputs, Span<int> targets)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        var random = SeededRandom.ForStream(Seed, (ulong)step);
        var starts = tokens.Length - SequenceLength;
        for (var sequence = 0; sequence < BatchSize; sequence++) Window(random.NextInt32(starts), sequence, inputs, targets);
    }

    /// <summary>
    /// Fills a fixed evaluation batch: window w of <paramref name="windowCount"/> evenly spaced windows, so every
    /// evaluation sees the same tokens.
    /// </summary>
    public void SampleEvaluation(int batchIndex, int windowCount, Span<int> inputs, Span<int> targets)
    {
        var starts = tokens.Length - SequenceLength;
        for (var sequence = 0; sequence < BatchSize; sequence++)
        {
            var window = (long)batchIndex * BatchSize + sequence;
            var start = (int)(window * starts / Math.Max(1, windowCount));
            Window(Math.Min(start, starts - 1), sequence, inputs, targets);
        }
    }

    private void Window(int start, int sequence, Span<int> inputs, Span<int> targets)
    {
        tokens.AsSpan(start, SequenceLength).CopyTo(inputs.Slice(sequence * SequenceLength, SequenceLength));
        tokens.AsSpan(start + 1, SequenceLength).CopyTo(targets.Slice(sequence * SequenceLength, SequenceLength));
    }
}
