using Pipelines.Pretraining;

namespace Pipelines;

/// <summary>The estimators of the <see cref="PretrainingCatalog"/> (<c>context.Pretraining</c>).</summary>
public static class PretrainingCatalogExtensions
{
    /// <summary>Pre-trains a GPT on the token ids in <paramref name="tokensColumnName"/> (next-token prediction).</summary>
    /// <param name="catalog">The pretraining catalog.</param>
    /// <param name="tokensColumnName">The column of token ids (a vector of Int32, one document per row).</param>
    /// <param name="options">Everything else (default <see cref="CausalLanguageModelOptions"/>); its own column name is replaced by <paramref name="tokensColumnName"/>.</param>
    /// <example><c>context.Text.TrainBytePairEncoding().Append(context.Pretraining.CausalLanguageModel())</c></example>
    /// <exception cref="ArgumentOutOfRangeException">Two options conflict (the message names them).</exception>
    public static CausalLanguageModelEstimator CausalLanguageModel(this PretrainingCatalog catalog, string tokensColumnName = "Tokens", CausalLanguageModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return catalog.CausalLanguageModel((options ?? new CausalLanguageModelOptions()) with { TokensColumnName = tokensColumnName });
    }

    /// <summary>Pre-trains a GPT as <paramref name="options"/> say.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Two options conflict (the message names them).</exception>
    public static CausalLanguageModelEstimator CausalLanguageModel(this PretrainingCatalog catalog, CausalLanguageModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new CausalLanguageModelEstimator(catalog.Context, options);
    }
}
