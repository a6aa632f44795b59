using Pipelines.Components.Tensors;

namespace Pipelines.Components.Models;

// Read-only views of the activations and activation gradients the models already keep after a backward pass, for
// per-example gradient norms (Privacy/TransformerClipping). Nothing is captured or copied: ordinary training pays
// nothing. Buffers are grow-only and hold B*T live rows; a view is valid until the next forward pass.

/// <summary>A Linear layer y = x W^T + b: its input x [N, IC] and output gradient dL/dy [N, OC], N = B * TokensPerExample.</summary>
internal sealed record LinearTap(ParameterSlice Weight, ParameterSlice? Bias, float[] Input, float[] OutputGradient, int InChannels, int OutChannels, int TokensPerExample);

/// <summary>A layer norm over [N, C]: its input, saved mean and 1/std [N], and output gradient.</summary>
internal sealed record LayerNormTap(ParameterSlice Scale, ParameterSlice Shift, float[] Input, float[] Mean, float[] ReciprocalStandardDeviation, float[] OutputGradient);

/// <summary>The token and position embeddings: token ids [B, T] and dL/d(embedding output) [N, C].</summary>
internal sealed record EmbeddingTap(ParameterSlice TokenTable, ParameterSlice PositionTable, int[] Tokens, float[] OutputGradient);

/// <summary>Every parameterised layer of a model's last forward and backward pass (a Linear may share its weight with the embedding: a tied head).</summary>
internal sealed record PerExampleTaps(
    int BatchSize, int TokenCount, int Channels, IReadOnlyList<LinearTap> Linears, IReadOnlyList<LayerNormTap> Norms, EmbeddingTap Embedding);

public sealed partial class TransformerBlock
{
    internal void AddTaps(float[] blockInput, float[] blockOutputGradient, List<LinearTap> linears, List<LayerNormTap> norms)
    {
        var (channels, hidden) = (config.Channels, config.HiddenChannels);
        var p = Parameters;
        norms.Add(new(p.FirstNormScale, p.FirstNormShift, blockInput, firstNormMean, firstNormDeviation, firstNormGradient));
        linears.Add(new(p.QkvWeight, p.QkvBias, firstNormOutput, qkvGradient, channels, 3 * channels, tokenCount));
        linears.Add(new(p.ProjectionWeight, p.ProjectionBias, attentionOutput, residualGradient, channels, channels, tokenCount));
        norms.Add(new(p.SecondNormScale, p.SecondNormShift, residual, secondNormMean, secondNormDeviation, secondNormGradient));
        linears.Add(new(p.ExpandWeight, p.ExpandBias, secondNormOutput, expandedGradient, channels, hidden, tokenCount));
        linears.Add(new(p.ContractWeight, p.ContractBias, activated, blockOutputGradient, hidden, channels, tokenCount));
    }
}

public sealed partial class TransformerStack
{
    internal void AddTaps(float[] normalizedGradient, List<LinearTap> linears, List<LayerNormTap> norms)
    {
        for (var layer = 0; layer < blocks.Length; layer++) blocks[layer].AddTaps(hidden[layer], hiddenGradient[layer + 1], linears, norms);
        norms.Add(new(FinalNormScale, FinalNormShift, hidden[blocks.Length], finalNormMean, finalNormDeviation, normalizedGradient));
    }

    internal float[] InputGradientBuffer => hiddenGradient[0];
}

internal sealed partial class TransformerBody
{
    internal PerExampleTaps Taps(int batchSize, int tokenCount, float[] normalizedGradient, LinearTap head)
    {
        var (linears, norms) = (new List<LinearTap>(), new List<LayerNormTap>());
        Stack.AddTaps(normalizedGradient, linears, norms);
        linears.Add(head);
        return new(batchSize, tokenCount, config.Channels, linears, norms, new(TokenEmbedding, PositionEmbedding, tokens, Stack.InputGradientBuffer));
    }
}

public sealed partial class GptModel
{
    /// <summary>The layers of the last forward and backward pass; the head's weight is the token table (tied).</summary>
    internal PerExampleTaps PerExampleTaps() =>
        body.Taps(batchSize, tokenCount, normalizedGradient, new(body.TokenEmbedding, null, normalized, logitsGradient, Config.Channels, Config.VocabularySize, tokenCount));
}

public sealed partial class EncoderClassifier
{
    /// <summary>The layers of the last forward and backward pass; the head sees one pooled row per example.</summary>
    internal PerExampleTaps PerExampleTaps() =>
        body.Taps(batchSize, tokenCount, normalizedGradient, new(headWeight, headBias, pooled, logitsGradient, Config.Channels, ClassCount, 1));

    /// <summary>The key mask [B, T] of the last forward pass (1 = token, 0 = padding).</summary>
    internal ReadOnlySpan<byte> KeyMask => keyMask.AsSpan(0, batchSize * tokenCount);
}
