namespace Pipelines.Components.Models;

/// <summary>The shape of a transformer: the one block both the GPT and the encoder are built from.</summary>
/// <remarks>
/// Pre-LN blocks (GPT-2 style): <c>x + Attention(LN(x))</c>, then <c>x + MLP(LN(x))</c> with a 4x GELU(tanh)
/// MLP, learned position embeddings and a final layer norm. Defaults are the benchmark's reference
/// configuration (4 layers, 4 heads, width 256, context 128, vocabulary 2,048).
/// </remarks>
public sealed record TransformerConfig
{
    /// <summary>Creates a configuration; every size is validated.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1, or the width is not a multiple of the head count.</exception>
    public TransformerConfig(int layerCount = 4, int headCount = 4, int channels = 256, int contextLength = 128, int vocabularySize = 2048)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layerCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(headCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 1);
        if (channels % headCount != 0)
            throw new ArgumentOutOfRangeException(nameof(channels), channels, $"The width must be a multiple of the head count ({headCount}).");
        LayerCount = layerCount;
        HeadCount = headCount;
        Channels = channels;
        ContextLength = contextLength;
        VocabularySize = vocabularySize;
    }

    /// <summary>Number of transformer blocks.</summary>
    public int LayerCount { get; }

    /// <summary>Attention heads per block.</summary>
    public int HeadCount { get; }

    /// <summary>Model width C.</summary>
    public int Channels { get; }

    /// <summary>Longest sequence the position table covers.</summary>
    public int ContextLength { get; }

    /// <summary>Number of token ids.</summary>
    public int VocabularySize { get; }

    /// <summary>Width of one head, C / H.</summary>
    public int HeadSize => Channels / HeadCount;

    /// <summary>Hidden width of the MLP, 4C.</summary>
    public int HiddenChannels => 4 * Channels;

    /// <summary>Approximate forward+backward FLOPs per token of the GPT (6 per weight-multiply plus attention).</summary>
    public double TrainingFlopsPerToken(int tokenCount)
    {
        var matrixWeights = (double)LayerCount * 12 * Channels * Channels + (double)VocabularySize * Channels;
        var attention = (double)LayerCount * 2 * tokenCount * Channels; // QK^T and PV, causal half counted in full
        return 6 * matrixWeights + 6 * attention;
    }
}
