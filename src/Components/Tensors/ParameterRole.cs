namespace Pipelines.Components.Tensors;

/// <summary>What a parameter is for; optimizers, pruning and LoRA choose parameters by role.</summary>
public enum ParameterRole
{
    /// <summary>A linear layer's weight matrix, stored [outChannels, inChannels] as in PyTorch.</summary>
    LinearWeight,
    /// <summary>A linear layer's bias vector.</summary>
    LinearBias,
    /// <summary>A layer norm's scale (gamma).</summary>
    NormScale,
    /// <summary>A layer norm's shift (beta).</summary>
    NormShift,
    /// <summary>A token embedding table [vocabulary, channels]; in the GPT it is also the tied output head.</summary>
    TokenEmbedding,
    /// <summary>A learned position embedding table [context, channels].</summary>
    PositionEmbedding,
}
