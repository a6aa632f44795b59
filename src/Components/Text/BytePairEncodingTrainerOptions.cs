namespace Pipelines.Components.Text;

/// <summary>Settings of <see cref="BytePairEncodingTrainer"/>; each value is checked when it is set.</summary>
/// <remarks>
/// The final vocabulary is the 256 byte values, then one token per learned merge, then the special tokens,
/// so at most <see cref="VocabularySize"/> − 256 − (number of special tokens) merges are learned.
/// </remarks>
public sealed record BytePairEncodingTrainerOptions
{
    /// <summary>The largest vocabulary allowed by the saved format (ids must fit comfortably in an int).</summary>
    public const int MaximumVocabularySize = 1 << 24;

    /// <summary>
    /// Target vocabulary size, bytes, merges and special tokens included (default 2,048). When the text runs out of
    /// pairs occurring at least <see cref="MinimumPairFrequency"/> times first, training refuses (see
    /// <see cref="AllowSmallerVocabulary"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 256 + the number of special tokens, or above <see cref="MaximumVocabularySize"/>.</exception>
    public int VocabularySize
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, BytePairEncoding.ByteTokenCount + SpecialTokens.Count, nameof(VocabularySize));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaximumVocabularySize, nameof(VocabularySize));
            field = value;
        }
    } = 2048;

    /// <summary>Special tokens such as <c>&lt;|endoftext|&gt;</c>, given the last ids in this order (default none).</summary>
    /// <exception cref="ArgumentException">A token is null or empty, or appears twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException">With the 256 byte tokens they would exceed <see cref="VocabularySize"/>.</exception>
    public IReadOnlyList<string> SpecialTokens
    {
        get;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(SpecialTokens));
            var copy = value.ToArray();
            BytePairEncoding.ValidateSpecialTokens(copy, nameof(SpecialTokens));
            if (BytePairEncoding.ByteTokenCount + copy.Length > VocabularySize)
                throw new ArgumentOutOfRangeException(nameof(SpecialTokens), copy.Length, $"256 byte tokens plus {copy.Length} special tokens exceed the vocabulary size {VocabularySize}.");
            field = Array.AsReadOnly(copy);
        }
    } = [];

    /// <summary>A pair is merged only if it occurs at least this many times in the training text (default 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int MinimumPairFrequency
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(MinimumPairFrequency));
            field = value;
        }
    } = 2;

    /// <summary>
    /// Accept a vocabulary smaller than <see cref="VocabularySize"/> when the text has too few frequent pairs
    /// (default false: <see cref="BytePairEncodingTrainer.Train(IEnumerable{string})"/> throws, naming the requested and
    /// the reachable size, rather than quietly handing a model a smaller vocabulary than it was sized for).
    /// </summary>
    public bool AllowSmallerVocabulary { get; init; }
}
