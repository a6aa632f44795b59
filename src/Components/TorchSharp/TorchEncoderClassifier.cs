using Pipelines.Components.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Pipelines.Components.TorchSharp;

/// <summary>
/// The engine's encoder classifier as a TorchSharp module: token + position embeddings, pre-LN blocks attending to
/// every valid (non-padding) key, a final layer norm, mean pooling over valid tokens and a linear head.
/// </summary>
/// <remarks>
/// Exactly the architecture and parameter names of <see cref="EncoderClassifier"/> (<c>wte</c>, <c>wpe</c>,
/// <c>blocks.{l}.*</c>, <c>lnf</c>, <c>head.weight</c> [K, C], <c>head.bias</c> [K]). Pooling:
/// <c>pooled_b = (1/k_b)·Σ_{t: mask[b,t]=1} LN(x)[b,t]</c> with k_b the valid tokens of sequence b; padding
/// queries attend like any other (their outputs are pooled away), as in the engine. The loss is the mean
/// cross-entropy over labels that are not −1.
/// </remarks>
public sealed class TorchEncoderClassifier : Module<Tensor, Tensor?, Tensor>
{
    private readonly Embedding tokenEmbedding;
    private readonly Embedding positionEmbedding;
    private readonly ModuleList<TorchTransformerBlock> blocks;
    private readonly LayerNorm finalNorm;
    private readonly Linear head;

    /// <summary>Creates the classifier's parameters on <paramref name="device"/> (load weights next).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classCount"/> is below 2.</exception>
    public TorchEncoderClassifier(TransformerConfig config, int classCount, Device device)
        : base(nameof(TorchEncoderClassifier))
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 2);
        Device = device ?? throw new ArgumentNullException(nameof(device));
        ClassCount = classCount;
        tokenEmbedding = Embedding(config.VocabularySize, config.Channels, device: device);
        positionEmbedding = Embedding(config.ContextLength, config.Channels, device: device);
        blocks = new ModuleList<TorchTransformerBlock>(Enumerable.Range(0, config.LayerCount)
            .Select(_ => new TorchTransformerBlock(config.Channels, config.HeadCount, causal: false, device)).ToArray());
        finalNorm = LayerNorm(config.Channels, eps: Kernels.LayerNorm.Epsilon, device: device);
        head = Linear(config.Channels, classCount, device: device);
        register_module("wte", tokenEmbedding);
        register_module("wpe", positionEmbedding);
        register_module("blocks", blocks);
        register_module("lnf", finalNorm);
        register_module("head", head);
    }

    /// <summary>The body's shape.</summary>
    public TransformerConfig Config { get; }

    /// <summary>Number of classes K.</summary>
    public int ClassCount { get; }

    /// <summary>The device holding the parameters; inputs must be there too.</summary>
    public Device Device { get; }

    /// <summary>Class logits [B, K] of <paramref name="tokens"/> [B, T] (int64) with <paramref name="keyMask"/> [B, T] (1 = token, 0 = padding; null = none).</summary>
    /// <exception cref="ArgumentException">A tensor has the wrong shape or type.</exception>
    public override Tensor forward(Tensor tokens, Tensor? keyMask) => Run(tokens, keyMask, null);

    /// <summary>
    /// <see cref="forward(Tensor, Tensor?)"/>, recording every block's output (and, if the capture asks, its attention
    /// probabilities) in <paramref name="capture"/>; the logits are those of the plain forward pass.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor has the wrong shape or type.</exception>
    public Tensor Forward(Tensor tokens, Tensor? keyMask, TorchForwardCapture capture)
    {
        ArgumentNullException.ThrowIfNull(capture);
        return Run(tokens, keyMask, capture);
    }

    private Tensor Run(Tensor tokens, Tensor? keyMask, TorchForwardCapture? capture)
    {
        var tokenCount = TorchInputs.CheckTokens(tokens, Config, nameof(tokens));
        capture?.Clear();
        var batchSize = tokens.shape[0];
        var valid = keyMask is null ? ones(batchSize, tokenCount, dtype: ScalarType.Bool, device: Device) : CheckMask(keyMask, batchSize, tokenCount);
        var attentionMask = valid.view(batchSize, 1, 1, tokenCount);
        var positions = arange(tokenCount, dtype: ScalarType.Int64, device: Device);
        var stream = tokenEmbedding.forward(tokens) + positionEmbedding.forward(positions);
        foreach (var block in blocks) stream = capture is null ? block.forward(stream, attentionMask) : capture.Run(block, stream, attentionMask);
        var weights = valid.to_type(ScalarType.Float32).unsqueeze(2);                         // [B, T, 1]
        var pooled = (finalNorm.forward(stream) * weights).sum(1) / weights.sum(1);            // [B, C]
        return head.forward(pooled);
    }

    /// <summary>Mean cross-entropy of <paramref name="logits"/> [B, K] against <paramref name="labels"/> [B] (int64; −1 = ignored).</summary>
    public static Tensor Loss(Tensor logits, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        return functional.cross_entropy(logits, labels, ignore_index: -1);
    }

    private static Tensor CheckMask(Tensor keyMask, long batchSize, long tokenCount)
    {
        if (keyMask.dim() != 2 || keyMask.shape[0] != batchSize || keyMask.shape[1] != tokenCount)
            throw new ArgumentException($"Expected a key mask [{batchSize}, {tokenCount}], got [{string.Join(", ", keyMask.shape)}].", nameof(keyMask));
        return keyMask.dtype == ScalarType.Bool ? keyMask : keyMask.ne(0);
    }
}
