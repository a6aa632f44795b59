using Pipelines.Components.Models;

namespace Pipelines.Components.Training;

/// <summary>Token-id sequences with one class label each: what a <see cref="ClassifierTrainer"/> trains and evaluates on.</summary>
/// <remarks>
/// Checked once here, so that bad data fails naming the example instead of deep inside a kernel: every sequence has
/// at least one token (mean pooling needs one) and no negative id, and every label is at least 0. The arrays are
/// kept, not copied: do not change them while a trainer reads them.
/// </remarks>
public sealed class LabeledSequences
{
    private readonly int[][] sequences;
    private readonly int[] labels;

    /// <summary>Creates the set; sequence i has label <c>labels[i]</c> (a class index, 0-based).</summary>
    /// <exception cref="ArgumentException">The counts differ, the set is empty, or a sequence is null or empty (the index is named).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token id or a label is negative (the index is named).</exception>
    public LabeledSequences(IReadOnlyList<int[]> sequences, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(labels);
        if (sequences.Count != labels.Count)
            throw new ArgumentException($"There are {sequences.Count} sequences but {labels.Count} labels.", nameof(labels));
        if (sequences.Count == 0) throw new ArgumentException("At least one labelled sequence is required.", nameof(sequences));
        this.sequences = [.. sequences];
        this.labels = [.. labels];
        for (var index = 0; index < this.sequences.Length; index++)
        {
            var sequence = this.sequences[index];
            if (sequence is null || sequence.Length == 0)
                throw new ArgumentException($"Sequence {index} is {(sequence is null ? "null" : "empty")}: the encoder needs at least one token to pool.", nameof(sequences));
            foreach (var token in sequence)
            {
                if (token < 0) throw new ArgumentOutOfRangeException(nameof(sequences), token, $"Sequence {index} holds a negative token id.");
                MaximumTokenId = Math.Max(MaximumTokenId, token);
            }

            TokenCount += sequence.Length;
            if (this.labels[index] < 0) throw new ArgumentOutOfRangeException(nameof(labels), this.labels[index], $"Label {index} is negative.");
            MaximumLabel = Math.Max(MaximumLabel, this.labels[index]);
        }
    }

    /// <summary>Number of examples.</summary>
    public int Count => sequences.Length;

    /// <summary>The token-id sequences.</summary>
    public IReadOnlyList<int[]> Sequences => sequences;

    /// <summary>The class index of each sequence.</summary>
    public IReadOnlyList<int> Labels => labels;

    /// <summary>The largest token id of any sequence.</summary>
    public int MaximumTokenId { get; }

    /// <summary>The largest label.</summary>
    public int MaximumLabel { get; }

    /// <summary>Tokens in all sequences (before truncation).</summary>
    public long TokenCount { get; }

    /// <summary>Throws unless every token id is in the model's vocabulary and every label is one of its classes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id or a label is out of range; the example is named.</exception>
    public void CheckFits(TransformerConfig config, int classCount, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (MaximumTokenId >= config.VocabularySize)
        {
            var index = Array.FindIndex(sequences, sequence => sequence.Any(token => token >= config.VocabularySize));
            throw new ArgumentOutOfRangeException(parameterName, MaximumTokenId,
                $"Sequence {index} holds token id {sequences[index].First(token => token >= config.VocabularySize)}, outside the model's vocabulary of {config.VocabularySize}.");
        }

        if (MaximumLabel >= classCount)
        {
            var index = Array.FindIndex(labels, label => label >= classCount);
            throw new ArgumentOutOfRangeException(parameterName, labels[index], $"Label {index} is {labels[index]}; the model has {classCount} classes.");
        }
    }
}
