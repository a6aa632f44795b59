namespace Pipelines.Components.Training;

/// <summary>
/// A batch of token-id sequences of different lengths laid out as [B, T] with a key mask: each sequence keeps its
/// first <see cref="MaximumLength"/> tokens and is padded with id 0 (mask 0) to the longest one in the batch.
/// </summary>
/// <remarks>
/// T is the batch's longest (truncated) sequence, not <see cref="MaximumLength"/>, so batches of short texts cost
/// less. Keeping the head of a long text is the usual choice for classification; the buffers grow once and are reused.
/// </remarks>
public sealed class PaddedSequenceBatch
{
    private int[] tokens = [];   // [B, T]
    private byte[] keyMask = []; // [B, T]: 1 token, 0 padding
    private int[] labels = [];   // [B]
    private bool hasLabels;

    /// <summary>Creates an empty batch whose sequences are cut to <paramref name="maximumLength"/> tokens.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maximumLength"/> is below 1.</exception>
    public PaddedSequenceBatch(int maximumLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maximumLength, 1);
        MaximumLength = maximumLength;
    }

    /// <summary>The longest sequence kept; longer ones lose their tail.</summary>
    public int MaximumLength { get; }

    /// <summary>Sequences in the batch (B).</summary>
    public int BatchSize { get; private set; }

    /// <summary>Tokens per padded sequence (T).</summary>
    public int TokenCount { get; private set; }

    /// <summary>Tokens that are not padding.</summary>
    public long ValidTokenCount { get; private set; }

    /// <summary>The token ids, [B, T].</summary>
    public ReadOnlySpan<int> Tokens => tokens.AsSpan(0, BatchSize * TokenCount);

    /// <summary>The key mask, [B, T]: 1 for a token, 0 for padding.</summary>
    public ReadOnlySpan<byte> KeyMask => keyMask.AsSpan(0, BatchSize * TokenCount);

    /// <summary>The labels, [B] (empty when the batch was filled without labels).</summary>
    public ReadOnlySpan<int> Labels => labels.AsSpan(0, hasLabels ? BatchSize : 0);

    /// <summary>Fills the batch with the examples <paramref name="exampleIndices"/> of <paramref name="data"/>, labels included.</summary>
    public void Fill(LabeledSequences data, ReadOnlySpan<int> exampleIndices)
    {
        ArgumentNullException.ThrowIfNull(data);
        Fill(data.Sequences, data.Labels, exampleIndices);
    }

    /// <summary>Fills the batch with the sequences <paramref name="exampleIndices"/>, and their labels when <paramref name="allLabels"/> is given.</summary>
    /// <exception cref="ArgumentException">No index is given, or a chosen sequence is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the sequences.</exception>
    public void Fill(IReadOnlyList<int[]> sequences, IReadOnlyList<int>? allLabels, ReadOnlySpan<int> exampleIndices)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (exampleIndices.IsEmpty) throw new ArgumentException("A batch needs at least one example.", nameof(exampleIndices));
        var longest = 0;
        foreach (var example in exampleIndices)
        {
            if ((uint)example >= (uint)sequences.Count)
                throw new ArgumentOutOfRangeException(nameof(exampleIndices), example, $"There are {sequences.Count} sequences.");
            if (sequences[example].Length == 0)
                throw new ArgumentException($"Sequence {example} is empty: the encoder needs at least one token to pool.", nameof(sequences));
            longest = Math.Max(longest, Math.Min(sequences[example].Length, MaximumLength));
        }

        BatchSize = exampleIndices.Length;
        TokenCount = longest;
        hasLabels = allLabels is not null;
        var size = BatchSize * TokenCount;
        if (tokens.Length < size)
        {
            tokens = new int[size];
            keyMask = new byte[size];
        }

        if (labels.Length < BatchSize) labels = new int[BatchSize];
        ValidTokenCount = 0;
        for (var row = 0; row < BatchSize; row++)
        {
            var sequence = sequences[exampleIndices[row]];
            var kept = Math.Min(sequence.Length, MaximumLength);
            var rowTokens = tokens.AsSpan(row * TokenCount, TokenCount);
            var rowMask = keyMask.AsSpan(row * TokenCount, TokenCount);
            sequence.AsSpan(0, kept).CopyTo(rowTokens);
            rowTokens[kept..].Clear();
            rowMask[..kept].Fill(1);
            rowMask[kept..].Clear();
            ValidTokenCount += kept;
            if (allLabels is not null) labels[row] = allLabels[exampleIndices[row]];
        }
    }
}
