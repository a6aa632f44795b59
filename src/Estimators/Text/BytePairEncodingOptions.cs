using Pipelines.Components.Text;

namespace Pipelines.Text;

/// <summary>Options of <see cref="BytePairEncodingEstimator"/>: the columns and the tokenizer to learn.</summary>
/// <remarks>
/// Each value is checked when it is set; <see cref="VocabularySize"/> against the special tokens when the estimator
/// is created. A bad value throws <see cref="ArgumentOutOfRangeException"/> (or <see cref="ArgumentException"/> for
/// names and special tokens) naming the option and the value.
/// </remarks>
public sealed record BytePairEncodingOptions
{
    /// <summary>The end-of-text marker GPT-2 uses, the default special token.</summary>
    public const string EndOfTextToken = "<|endoftext|>";

    /// <summary>Creates options for reading <paramref name="inputColumnName"/> and writing <paramref name="outputColumnName"/>.</summary>
    /// <exception cref="ArgumentException">A column name is null, empty or white space.</exception>
    public BytePairEncodingOptions(string outputColumnName = "Tokens", string inputColumnName = "Text")
    {
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName;
    }

    /// <summary>The column of token ids (a variable-size vector of key, see <see cref="TokenColumn"/>).</summary>
    public string OutputColumnName { get; init => field = ColumnName(value, nameof(OutputColumnName)); }

    /// <summary>The text column the tokenizer learns from and encodes.</summary>
    public string InputColumnName { get; init => field = ColumnName(value, nameof(InputColumnName)); }

    /// <summary>Target vocabulary: 256 byte tokens, the learned merges and the special tokens (default 2,048).</summary>
    /// <remarks>Training that cannot reach it (no pair left occurring <see cref="MinimumPairFrequency"/> times) fails unless <see cref="AllowSmallerVocabulary"/> is set.</remarks>
    public int VocabularySize
    {
        get;
        init
        {
            if (value < BytePairEncoding.ByteTokenCount + 1 || value > BytePairEncodingTrainerOptions.MaximumVocabularySize)
                throw new ArgumentOutOfRangeException(nameof(VocabularySize), value,
                    $"The vocabulary holds the {BytePairEncoding.ByteTokenCount} byte tokens and more, at most {BytePairEncodingTrainerOptions.MaximumVocabularySize}.");
            field = value;
        }
    } = 2048;

    /// <summary>Special tokens, given the last ids in this order (default <c>&lt;|endoftext|&gt;</c>).</summary>
    /// <exception cref="ArgumentException">A token is null, empty or repeated.</exception>
    public IReadOnlyList<string> SpecialTokens
    {
        get;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(SpecialTokens));
            var copy = value.ToArray();
            // The trainer's options hold the one definition of a valid special token.
            _ = new BytePairEncodingTrainerOptions { VocabularySize = BytePairEncodingTrainerOptions.MaximumVocabularySize, SpecialTokens = copy };
            field = Array.AsReadOnly(copy);
        }
    } = Array.AsReadOnly(new[] { EndOfTextToken });

    /// <summary>A pair is merged only if it occurs at least this many times in the training text (default 2).</summary>
    public int MinimumPairFrequency
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MinimumPairFrequency), value, "Must be at least 1.");
    } = 2;

    /// <summary>
    /// Whether training may end with a smaller vocabulary than <see cref="VocabularySize"/> when the text holds too few
    /// pairs occurring <see cref="MinimumPairFrequency"/> times (default false: such a fit fails, naming both sizes).
    /// </summary>
    public bool AllowSmallerVocabulary { get; init; }

    /// <summary>
    /// Whether occurrences of the special tokens' text in the input become their special ids (default false: the
    /// text is encoded as plain text, so user text cannot inject control tokens).
    /// </summary>
    public bool ParseSpecialTokens { get; init; }

    /// <summary>The options of the component trainer; throws if the vocabulary cannot hold the special tokens.</summary>
    /// <exception cref="ArgumentOutOfRangeException">256 byte tokens plus the special tokens exceed <see cref="VocabularySize"/>.</exception>
    internal BytePairEncodingTrainerOptions ToTrainerOptions()
    {
        if (BytePairEncoding.ByteTokenCount + SpecialTokens.Count > VocabularySize)
            throw new ArgumentOutOfRangeException(nameof(VocabularySize), VocabularySize,
                $"The vocabulary cannot hold the {BytePairEncoding.ByteTokenCount} byte tokens and {SpecialTokens.Count} special tokens.");
        return new BytePairEncodingTrainerOptions
        {
            VocabularySize = VocabularySize,
            SpecialTokens = SpecialTokens,
            MinimumPairFrequency = MinimumPairFrequency,
            AllowSmallerVocabulary = AllowSmallerVocabulary,
        };
    }

    private static string ColumnName(string value, string option)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"The option {option} needs a column name, not '{value}'.", option);
        return value;
    }
}
