using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.Components.Models;
using Pipelines.Sparsity;

namespace Pipelines.Pretraining;

/// <summary>Text in, text out: a chain of transformers (fitted or loaded) ending in a language model.</summary>
/// <remarks>
/// Works on a freshly fitted chain (<c>TransformerChain&lt;CausalLanguageModelTransformer&gt;</c>) and on one loaded from a
/// file (<c>TransformerChain&lt;ITransformer&gt;</c>); a <see cref="SparsePretrainingTransformer"/> counts as its language model.
/// </remarks>
public static class LanguageModelChainExtensions
{
    /// <summary>The chain's language model (the last one, if several).</summary>
    /// <exception cref="InvalidOperationException">The chain holds none.</exception>
    public static CausalLanguageModelTransformer GetLanguageModel<TLast>(this TransformerChain<TLast> chain)
        where TLast : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(chain);
        return chain.Select(AsLanguageModel).LastOrDefault(model => model is not null)
            ?? throw new InvalidOperationException("The chain holds no CausalLanguageModelTransformer.");
    }

    /// <summary>Continues <paramref name="prompt"/> by <paramref name="tokenCount"/> tokens with the chain's language model and its tokenizer.</summary>
    /// <exception cref="InvalidOperationException">The chain holds no language model, or it has no tokenizer.</exception>
    public static string GenerateText<TLast>(this TransformerChain<TLast> chain, string prompt, int tokenCount, GenerationOptions? options = null, CancellationToken cancellationToken = default)
        where TLast : class, ITransformer =>
        chain.GetLanguageModel().GenerateText(prompt, tokenCount, options, cancellationToken);

    /// <summary>Runs the chain's transformers before its language model on <paramref name="data"/>, then evaluates the model (in bits per byte too).</summary>
    /// <exception cref="InvalidOperationException">The chain holds no language model.</exception>
    public static LanguageModelMetrics Evaluate<TLast>(this TransformerChain<TLast> chain, IDataView data, CancellationToken cancellationToken = default)
        where TLast : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(data);
        var transformers = chain.ToArray();
        var index = Array.FindLastIndex(transformers, transformer => AsLanguageModel(transformer) is not null);
        if (index < 0) throw new InvalidOperationException("The chain holds no CausalLanguageModelTransformer.");
        var current = data;
        for (var before = 0; before < index; before++) current = transformers[before].Transform(current);
        return AsLanguageModel(transformers[index])!.Evaluate(current, cancellationToken);
    }

    private static CausalLanguageModelTransformer? AsLanguageModel(ITransformer transformer) => transformer switch
    {
        CausalLanguageModelTransformer model => model,
        SparsePretrainingTransformer sparse => sparse.LanguageModel,
        _ => null,
    };
}
