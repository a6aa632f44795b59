using Pipelines.Components.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Pipelines.Components.TorchSharp;

/// <summary>
/// The engine's GPT as a TorchSharp module: token + learned position embeddings, pre-LN causal blocks, a final
/// layer norm and a head tied to the token embedding, <c>logits = LN(x)·wteᵀ</c>.
/// </summary>
/// <remarks>
/// Exactly the architecture and parameter names of <see cref="GptModel"/> (<c>wte.weight</c>, <c>wpe.weight</c>,
/// <c>blocks.{l}.*</c>, <c>lnf.*</c>; GPT-2, Radford et al. 2019), so weights move between the backends as named
/// tensors (<see cref="TorchParameters"/>). The loss is the mean next-token cross-entropy over targets that are not
/// −1, as the engine's. Inputs and parameters stay on the device given at construction.
/// </remarks>
public sealed class TorchGptModel : Module<Tensor, Tensor>
{
    private readonly Embedding tokenEmbedding;
    private readonly Embedding positionEmbedding;
    private readonly ModuleList<TorchTransformerBlock> blocks;
    private readonly LayerNorm finalNorm;

    /// <summary>Creates the model's parameters on <paramref name="device"/> (load weights next, e.g. from a <see cref="GptModel"/>).</summary>
    public TorchGptModel(TransformerConfig config, Device device)
        : base(nameof(TorchGptModel))
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        Device = device ?? throw new ArgumentNullException(nameof(device));
        tokenEmbedding = Embedding(config.VocabularySize, config.Channels, device: device);
        positionEmbedding = Embedding(config.ContextLength, config.Channels, device: device);
        blocks = new ModuleList<TorchTransformerBlock>(Enumerable.Range(0, config.LayerCount)
            .Select(_ => new TorchTransformerBlock(config.Channels, config.HeadCount, causal: true, device)).ToArray());
        finalNorm = LayerNorm(config.Channels, eps: Kernels.LayerNorm.Epsilon, device: device);
        register_module("wte", tokenEmbedding);
        register_module("wpe", positionEmbedding);
        register_module("blocks", blocks);
        register_module("lnf", finalNorm);
    }

    /// <summary>The model's shape.</summary>
    public TransformerConfig Config { get; }

    /// <summary>The device holding the parameters; inputs must be there too.</summary>
    public Device Device { get; }

    /// <summary>Computes the next-token logits [B, T, V] of <paramref name="tokens"/> [B, T] (int64).</summary>
    /// <exception cref="ArgumentException"><paramref name="tokens"/> is not [B, T], or T exceeds the context length.</exception>
    public override Tensor forward(Tensor tokens) => Run(tokens, null);

    /// <summary>
    /// <see cref="forward(Tensor)"/>, recording every block's output (and, if the capture asks, its attention
    /// probabilities) in <paramref name="capture"/>; the logits are those of the plain forward pass.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="tokens"/> is not [B, T], or T exceeds the context length.</exception>
    public Tensor Forward(Tensor tokens, TorchForwardCapture capture)
    {
        ArgumentNullException.ThrowIfNull(capture);
        return Run(tokens, capture);
    }

    private Tensor Run(Tensor tokens, TorchForwardCapture? capture)
    {
        var tokenCount = TorchInputs.CheckTokens(tokens, Config, nameof(tokens));
        capture?.Clear();
        var positions = arange(tokenCount, dtype: ScalarType.Int64, device: Device);
        var stream = tokenEmbedding.forward(tokens) + positionEmbedding.forward(positions);
        foreach (var block in blocks) stream = capture is null ? block.forward(stream, null) : capture.Run(block, stream, null);
        return functional.linear(finalNorm.forward(stream), tokenEmbedding.weight!);
    }

    /// <summary>Mean cross-entropy of <paramref name="logits"/> [B, T, V] against <paramref name="targets"/> [B, T] (int64; −1 = ignored).</summary>
    /// <remarks><c>L = −(1/n)·Σ_{i: target_i ≠ −1} log softmax(logits_i)[target_i]</c>, n the number of counted positions.</remarks>
    public static Tensor Loss(Tensor logits, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        return functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), targets.reshape(-1), ignore_index: -1);
    }
}
