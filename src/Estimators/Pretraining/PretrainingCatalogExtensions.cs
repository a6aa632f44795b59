using Pipelines.Pretraining;

namespace Pipelines;

/// <summary>The estimators of the <see cref="PretrainingCatalog"/> (<c>mlContext.Pretraining()</c>).</summary>
public static class PretrainingCatalogExtensions
{
    /// <summary>Pre-trains a GPT on the token keys in <paramref name="tokensColumnName"/> (next-token prediction).</summary>
    /// <param name="catalog">The pretraining catalog.</param>
    /// <param name="tokensColumnName">The column of token keys (<see cref="Text.TokenColumn"/>, one document per row).</param>
    /// <param name="options">Everything else (default <see cref="CausalLanguageModelOptions"/>); its own column name is replaced by <paramref name="tokensColumnName"/>.</param>
    /// <remarks>Next-token prediction with a GPT-2-style decoder (Radford et al. 2019); see <see cref="CausalLanguageModelEstimator"/>.</remarks>
    /// <example><c>mlContext.Transforms.Text.TrainBytePairEncoding().Append(mlContext.Pretraining().CausalLanguageModel())</c></example>
    /// <exception cref="ArgumentOutOfRangeException">Two options conflict (the message names them).</exception>
    public static CausalLanguageModelEstimator CausalLanguageModel(this PretrainingCatalog catalog, string tokensColumnName = "Tokens", CausalLanguageModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return catalog.CausalLanguageModel((options ?? new CausalLanguageModelOptions()) with { TokensColumnName = tokensColumnName });
    }

    /// <summary>Pre-trains a GPT as <paramref name="options"/> say (validation set, progress, cancellation and checkpoints included).</summary>
    /// <example>See <c>samples/QuickStart</c>.</example>
    /// <exception cref="ArgumentOutOfRangeException">Two options conflict (the message names them).</exception>
    public static CausalLanguageModelEstimator CausalLanguageModel(this PretrainingCatalog catalog, CausalLanguageModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new CausalLanguageModelEstimator(catalog.Context, options);
    }
}
