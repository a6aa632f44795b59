using Pipelines.Pretraining;
using Pipelines.Sparsity;

namespace Pipelines;

/// <summary>The estimators of the <see cref="SparsityCatalog"/> (<c>mlContext.Sparsity()</c>).</summary>
public static class SparsityCatalogExtensions
{
    /// <summary>Pre-trains a GPT on the token ids in <paramref name="tokensColumnName"/> while pruning its linear weights to <paramref name="finalSparsity"/> (cubic, 25%-75% of the run).</summary>
    /// <param name="catalog">The sparsity catalog.</param>
    /// <param name="tokensColumnName">The column of token ids (<see cref="Text.TokenColumn"/>, one document per row).</param>
    /// <param name="finalSparsity">The pruned fraction of the linear weights at the end, in [0, 1).</param>
    /// <param name="pretraining">The pre-training run (default <see cref="CausalLanguageModelOptions"/>); its column name is replaced by <paramref name="tokensColumnName"/>.</param>
    /// <remarks>Sparse pre-training (arXiv 2501.12486) with Zhu &amp; Gupta's cubic ramp (arXiv 1710.01878); see <see cref="SparsePretrainingEstimator"/>.</remarks>
    /// <example><c>mlContext.Transforms.Text.TrainBytePairEncoding().Append(mlContext.Sparsity().SparsePretraining(finalSparsity: 0.6))</c></example>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range, or two conflict (the message names them).</exception>
    public static SparsePretrainingEstimator SparsePretraining(this SparsityCatalog catalog, string tokensColumnName = "Tokens", double finalSparsity = 0.5,
        CausalLanguageModelOptions? pretraining = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var options = new SparsePretrainingOptions((pretraining ?? new CausalLanguageModelOptions()) with { TokensColumnName = tokensColumnName }) { FinalSparsity = finalSparsity };
        return catalog.SparsePretraining(options);
    }

    /// <summary>Pre-trains and prunes a GPT as <paramref name="options"/> say.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Two options conflict (the message names them).</exception>
    public static SparsePretrainingEstimator SparsePretraining(this SparsityCatalog catalog, SparsePretrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new SparsePretrainingEstimator(catalog.Context, options);
    }
}
