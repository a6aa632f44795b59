using Pipelines.Components.Models;
using Pipelines.Text;

namespace Pipelines.Pretraining;

/// <summary>Text in, text out: a chain holding a <see cref="BytePairEncodingTransformer"/> and a <see cref="CausalLanguageModelTransformer"/>.</summary>
/// <remarks>
/// Works on a freshly fitted chain (<c>TransformerChain&lt;CausalLanguageModelTransformer&gt;</c>) and on one loaded from a
/// file (<c>TransformerChain&lt;ITransformer&gt;</c>). The tokenizer is the one whose output column the model reads.
/// </remarks>
public static class LanguageModelChainExtensions
{
    /// <summary>The chain's language model (the last one, if several).</summary>
    /// <exception cref="InvalidOperationException">The chain holds none.</exception>
    public static CausalLanguageModelTransformer GetLanguageModel<TLast>(this TransformerChain<TLast> chain)
        where TLast : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(chain);
        return chain.OfType<CausalLanguageModelTransformer>().LastOrDefault()
            ?? throw new InvalidOperationException("The chain holds no CausalLanguageModelTransformer.");
    }

    /// <summary>The tokenizer that writes the token column the chain's language model reads.</summary>
    /// <exception cref="InvalidOperationException">The chain holds no language model, or no tokenizer writing its column.</exception>
    public static BytePairEncodingTransformer GetTokenizer<TLast>(this TransformerChain<TLast> chain)
        where TLast : class, ITransformer
    {
        var model = chain.GetLanguageModel();
        return chain.OfType<BytePairEncodingTransformer>().LastOrDefault(tokenizer => tokenizer.OutputColumnName == model.TokensColumnName)
            ?? throw new InvalidOperationException($"The chain holds no BytePairEncodingTransformer writing the column '{model.TokensColumnName}' its language model reads.");
    }

    /// <summary>Continues <paramref name="prompt"/> by <paramref name="tokenCount"/> tokens and returns the continuation's text.</summary>
    /// <param name="chain">A chain with a tokenizer and a language model.</param>
    /// <param name="prompt">The text to continue (empty starts a new document).</param>
    /// <param name="tokenCount">Tokens to generate.</param>
    /// <param name="options">Temperature, top-k and seed; the same seed gives the same text.</param>
    /// <param name="cancellationToken">Stops before the next token.</param>
    /// <remarks>The continuation may contain the end-of-text token's text where the model ended a document.</remarks>
    /// <exception cref="InvalidOperationException">The chain lacks the tokenizer or the model.</exception>
    public static string GenerateText<TLast>(this TransformerChain<TLast> chain, string prompt, int tokenCount, GenerationOptions? options = null, CancellationToken cancellationToken = default)
        where TLast : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var tokenizer = chain.GetTokenizer();
        var generated = chain.GetLanguageModel().Generate(tokenizer.Encode(prompt), tokenCount, options, cancellationToken);
        return tokenizer.Decode(generated);
    }

    /// <summary>Runs the chain's transformers before its language model on <paramref name="data"/>, then evaluates the model, in bits per byte too.</summary>
    /// <exception cref="InvalidOperationException">The chain lacks the tokenizer or the model.</exception>
    public static LanguageModelMetrics Evaluate<TLast>(this TransformerChain<TLast> chain, IDataView data, CancellationToken cancellationToken = default)
        where TLast : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(data);
        var model = chain.GetLanguageModel();
        var tokenizer = chain.GetTokenizer();
        var current = data;
        foreach (var transformer in chain.TakeWhile(transformer => !ReferenceEquals(transformer, model))) current = transformer.Transform(current);
        return model.Evaluate(current, tokenizer.Tokenizer, cancellationToken);
    }
}
