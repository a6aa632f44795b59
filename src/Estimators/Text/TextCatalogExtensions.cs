using Microsoft.ML;
using Pipelines.MachineLearning;
using Pipelines.Text;

namespace Pipelines;

/// <summary>The tokenizer in ML.NET's text catalog (<c>mlContext.Transforms.Text</c>).</summary>
public static class TextCatalogExtensions
{
    /// <summary>Learns a byte-level BPE tokenizer from <paramref name="inputColumnName"/> and adds the tokens as <paramref name="outputColumnName"/>.</summary>
    /// <param name="catalog">ML.NET's text transforms catalog.</param>
    /// <param name="outputColumnName">The column of token keys (<see cref="TokenColumn"/>: <c>Vector&lt;Key&lt;UInt32, V&gt;&gt;</c>).</param>
    /// <param name="inputColumnName">The text column.</param>
    /// <param name="vocabularySize">Bytes, merges and special tokens together.</param>
    /// <param name="specialTokens">Special tokens (default: <c>&lt;|endoftext|&gt;</c>).</param>
    /// <remarks>Byte-pair encoding (Sennrich et al., arXiv 1508.07909), byte-level as in GPT-2.</remarks>
    /// <example><c>mlContext.Transforms.Text.TrainBytePairEncoding(vocabularySize: 1024).Append(mlContext.Pretraining().CausalLanguageModel())</c></example>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    public static BytePairEncodingEstimator TrainBytePairEncoding(this TransformsCatalog.TextTransforms catalog, string outputColumnName = "Tokens", string inputColumnName = "Text",
        int vocabularySize = 2048, IReadOnlyList<string>? specialTokens = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var options = new BytePairEncodingOptions(outputColumnName, inputColumnName) { VocabularySize = vocabularySize };
        if (specialTokens is not null) options = options with { SpecialTokens = specialTokens };
        return catalog.TrainBytePairEncoding(options);
    }

    /// <summary>Learns a byte-level BPE tokenizer as <paramref name="options"/> say.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The vocabulary cannot hold the byte tokens and the special tokens.</exception>
    public static BytePairEncodingEstimator TrainBytePairEncoding(this TransformsCatalog.TextTransforms catalog, BytePairEncodingOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new BytePairEncodingEstimator(MachineLearningInternals.GetEnvironment(catalog), options);
    }
}
