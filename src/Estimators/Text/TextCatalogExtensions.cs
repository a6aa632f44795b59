using Pipelines.Text;

namespace Pipelines;

/// <summary>The estimators of the <see cref="TextCatalog"/> (<c>context.Text</c>).</summary>
public static class TextCatalogExtensions
{
    /// <summary>Learns a byte-level BPE tokenizer from <paramref name="inputColumnName"/> and adds the token ids as <paramref name="outputColumnName"/>.</summary>
    /// <param name="catalog">The text catalog.</param>
    /// <param name="outputColumnName">The column of token ids (variable-size <c>Vector&lt;Int32&gt;</c>).</param>
    /// <param name="inputColumnName">The text column.</param>
    /// <param name="vocabularySize">Bytes, merges and special tokens together.</param>
    /// <param name="specialTokens">Special tokens (default: <c>&lt;|endoftext|&gt;</c>).</param>
    /// <example><c>context.Text.TrainBytePairEncoding(vocabularySize: 1024).Append(context.Pretraining.CausalLanguageModel())</c></example>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    public static BytePairEncodingEstimator TrainBytePairEncoding(this TextCatalog catalog, string outputColumnName = "Tokens", string inputColumnName = "Text",
        int vocabularySize = 2048, IReadOnlyList<string>? specialTokens = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var options = new BytePairEncodingOptions(outputColumnName, inputColumnName) { VocabularySize = vocabularySize };
        if (specialTokens is not null) options = options with { SpecialTokens = specialTokens };
        return catalog.TrainBytePairEncoding(options);
    }

    /// <summary>Learns a byte-level BPE tokenizer as <paramref name="options"/> say.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The vocabulary cannot hold the byte tokens and the special tokens.</exception>
    public static BytePairEncodingEstimator TrainBytePairEncoding(this TextCatalog catalog, BytePairEncodingOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new BytePairEncodingEstimator(catalog.Context, options);
    }
}
