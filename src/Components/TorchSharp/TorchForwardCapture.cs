using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp;

/// <summary>
/// What a capturing forward pass (<see cref="TorchGptModel.Forward(Tensor, TorchForwardCapture)"/>,
/// <see cref="TorchEncoderClassifier.Forward(Tensor, Tensor?, TorchForwardCapture)"/>) recorded, one entry per block:
/// each block's output h(l) and, only when asked, its attention probabilities.
/// </summary>
/// <remarks>
/// The forward pass itself is the training one (fused scaled-dot-product attention, the same operations and values);
/// the capture only keeps references to the block outputs, which stay in the autograd graph (call <c>retain_grad()</c>
/// on them before <c>backward()</c> to read dL/dh(l)). Attention probabilities are recomputed explicitly from each
/// block's input (<see cref="TorchTransformerBlock.AttentionProbabilities"/>) without gradient, so they cost an extra
/// [B, H, T, T] tensor per block only when <see cref="CapturesAttentionProbabilities"/> is set. Each forward pass
/// replaces what the previous one recorded. The tensors belong to the caller's dispose scope, like the forward's output.
/// </remarks>
public sealed class TorchForwardCapture
{
    private readonly List<Tensor> blockOutputs = [];
    private readonly List<Tensor> attentionProbabilities = [];

    /// <summary>Creates an empty capture.</summary>
    /// <param name="attentionProbabilities">Also compute every block's attention probabilities [B, H, T, T].</param>
    public TorchForwardCapture(bool attentionProbabilities)
    {
        CapturesAttentionProbabilities = attentionProbabilities;
    }

    /// <summary>Whether the forward pass also computes every block's attention probabilities.</summary>
    public bool CapturesAttentionProbabilities { get; }

    /// <summary>h(l), the output of block l, [B, T, C], in the autograd graph of the forward pass.</summary>
    public IReadOnlyList<Tensor> BlockOutputs => blockOutputs;

    /// <summary>Block l's attention probabilities [B, H, T, T] (no gradient); empty unless <see cref="CapturesAttentionProbabilities"/>.</summary>
    public IReadOnlyList<Tensor> AttentionProbabilities => attentionProbabilities;

    /// <summary>Forgets the previous forward pass.</summary>
    internal void Clear()
    {
        blockOutputs.Clear();
        attentionProbabilities.Clear();
    }

    /// <summary>Runs <paramref name="block"/> on <paramref name="input"/> as the training forward does, recording its output (and its attention when asked).</summary>
    internal Tensor Run(TorchTransformerBlock block, Tensor input, Tensor? keyMask)
    {
        var output = block.forward(input, keyMask);
        blockOutputs.Add(output);
        if (CapturesAttentionProbabilities)
        {
            using var noGradient = no_grad();
            attentionProbabilities.Add(block.AttentionProbabilities(input, keyMask));
        }

        return output;
    }
}
