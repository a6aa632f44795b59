using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Models;

/// <summary>
/// What the GPT and the encoder share: token and position embeddings, the blocks, the final layer norm, and
/// which parameters are trainable. A model declares its own head after the body, then binds the body to the arena.
/// </summary>
internal sealed partial class TransformerBody
{
    private readonly TransformerConfig config;
    private readonly TransformerBlockParameters[] blocks;
    private readonly ParameterSlice finalNormScale;
    private readonly ParameterSlice finalNormShift;
    private bool[] trainable = [];
    private int[] tokens = [];   // [N] of the last forward pass, for the embedding's backward
    private ParameterArena? arena;
    private TransformerStack? stack;

    /// <summary>Declares wte, wpe, every block and lnf in <paramref name="builder"/>, in that order.</summary>
    public TransformerBody(TransformerConfig config, ParameterArenaBuilder builder)
    {
        this.config = config;
        TokenEmbedding = builder.Add("wte.weight", ParameterRole.TokenEmbedding, config.VocabularySize, config.Channels);
        PositionEmbedding = builder.Add("wpe.weight", ParameterRole.PositionEmbedding, config.ContextLength, config.Channels);
        blocks = Enumerable.Range(0, config.LayerCount).Select(layer => TransformerBlockParameters.Declare(builder, config, layer)).ToArray();
        finalNormScale = builder.Add("lnf.weight", ParameterRole.NormScale, config.Channels);
        finalNormShift = builder.Add("lnf.bias", ParameterRole.NormShift, config.Channels);
    }

    /// <summary>wte.weight [V, C].</summary>
    public ParameterSlice TokenEmbedding { get; }

    /// <summary>wpe.weight [maxT, C].</summary>
    public ParameterSlice PositionEmbedding { get; }

    /// <summary>The blocks and residual stream (after <see cref="Bind"/>).</summary>
    public TransformerStack Stack => stack ?? throw new InvalidOperationException("Bind the body to its arena first.");

    private ParameterArena Arena => arena ?? throw new InvalidOperationException("Bind the body to its arena first.");

    /// <summary>Attaches the body to the arena built from its declarations; every parameter starts trainable.</summary>
    public void Bind(ParameterArena builtArena)
    {
        arena = builtArena;
        trainable = Enumerable.Repeat(true, builtArena.Parameters.Count).ToArray();
        stack = new TransformerStack(config, builtArena, blocks, finalNormScale, finalNormShift, IsTrainable);
    }

    public void SetTrainable(Func<ParameterSlice, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        foreach (var parameter in Arena.Parameters) trainable[parameter.Index] = predicate(parameter);
    }

    public bool IsTrainable(ParameterSlice parameter) => trainable[parameter.Index];

    /// <summary>The gradient span of a trainable parameter, or empty (kernels then skip it).</summary>
    public Span<float> Gradients(ParameterSlice parameter) => Stack.Gradients(parameter);

    /// <summary>Sizes every buffer for a batch of <paramref name="batchSize"/> × <paramref name="tokenCount"/>.</summary>
    public void EnsureCapacity(int batchSize, int tokenCount)
    {
        if (tokens.Length < batchSize * tokenCount) tokens = new int[batchSize * tokenCount];
        Stack.EnsureCapacity(batchSize, tokenCount);
    }

    /// <summary>Embeds <paramref name="inputTokens"/> [B, T], runs the blocks and the final norm into <paramref name="normalized"/> [N, C].</summary>
    public void Forward(ReadOnlySpan<int> inputTokens, ReadOnlySpan<byte> keyMask, bool causal, Span<float> normalized, int batchSize, int tokenCount, Parallelism parallelism)
    {
        inputTokens.CopyTo(tokens);
        Embedding.Forward(inputTokens, Arena.ValuesOf(TokenEmbedding), Arena.ValuesOf(PositionEmbedding), Stack.Input, batchSize, tokenCount, config.Channels, config.VocabularySize, parallelism);
        Stack.Forward(keyMask, causal, normalized, parallelism);
    }

    /// <summary>Back-propagates dLoss/d(final norm output) [N, C] through the blocks and the embeddings.</summary>
    public void Backward(ReadOnlySpan<float> normalizedGradient, int batchSize, int tokenCount, Parallelism parallelism)
    {
        Stack.Backward(normalizedGradient, parallelism);
        if (Stack.LastBackwardStop is not null || (!IsTrainable(TokenEmbedding) && !IsTrainable(PositionEmbedding))) return; // a truncated backward: they are frozen
        Embedding.Backward(tokens.AsSpan(0, batchSize * tokenCount), Stack.InputGradient, Gradients(TokenEmbedding), Gradients(PositionEmbedding),
            batchSize, tokenCount, config.Channels, config.VocabularySize, parallelism);
    }
}
