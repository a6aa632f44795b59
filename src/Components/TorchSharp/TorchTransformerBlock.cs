using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Pipelines.Components.TorchSharp;

/// <summary>
/// One pre-LN transformer block as a TorchSharp module: <c>r = x + Proj(Attention(LN1(x)))</c>,
/// <c>y = r + Out(GELU(Fc(LN2(r))))</c>, exactly the managed engine's <c>TransformerBlock</c>.
/// </summary>
/// <remarks>
/// Parameters, named as in PyTorch and in the engine's arena: <c>ln1</c>, <c>qkv</c> [3C, C], <c>proj</c> [C, C],
/// <c>ln2</c>, <c>fc</c> [4C, C], <c>out</c> [C, 4C]. Attention is multi-head scaled dot-product attention over the
/// fused projection split as <c>q, k, v = qkv.split(C, 2)</c> and viewed <c>[B, H, T, hs]</c>:
/// <c>softmax(q·kᵀ/√hs + mask)·v</c> (Vaswani et al., arXiv 1706.03762); GELU is the tanh approximation
/// <c>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))</c> (arXiv 1606.08415); layer norms use eps = 1e-5.
/// Legend: B = batch, T = tokens, C = channels, H = heads, hs = C / H.
/// </remarks>
public sealed class TorchTransformerBlock : Module<Tensor, Tensor?, Tensor>
{
    private readonly int headCount;
    private readonly bool causal;
    private readonly LayerNorm firstNorm;
    private readonly Linear qkv;
    private readonly Linear projection;
    private readonly LayerNorm secondNorm;
    private readonly Linear expand;
    private readonly Linear contract;

    /// <summary>Creates the block's parameters on <paramref name="device"/> (values are TorchSharp's defaults: load weights next).</summary>
    /// <param name="channels">C, a multiple of <paramref name="headCount"/>.</param>
    /// <param name="headCount">H.</param>
    /// <param name="causal">Whether query i sees only keys j ≤ i (GPT) or every valid key (encoder).</param>
    /// <param name="device">Where the parameters live.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1, or <paramref name="channels"/> is not a multiple of <paramref name="headCount"/>.</exception>
    public TorchTransformerBlock(int channels, int headCount, bool causal, Device device)
        : base(nameof(TorchTransformerBlock))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(headCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if (channels % headCount != 0)
            throw new ArgumentOutOfRangeException(nameof(channels), channels, $"The width must be a multiple of the head count ({headCount}).");
        ArgumentNullException.ThrowIfNull(device);
        this.headCount = headCount;
        this.causal = causal;
        firstNorm = LayerNorm(channels, eps: Kernels.LayerNorm.Epsilon, device: device);
        qkv = Linear(channels, 3 * channels, device: device);
        projection = Linear(channels, channels, device: device);
        secondNorm = LayerNorm(channels, eps: Kernels.LayerNorm.Epsilon, device: device);
        expand = Linear(channels, 4 * channels, device: device);
        contract = Linear(4 * channels, channels, device: device);
        register_module("ln1", firstNorm);
        register_module("qkv", qkv);
        register_module("proj", projection);
        register_module("ln2", secondNorm);
        register_module("fc", expand);
        register_module("out", contract);
    }

    /// <summary>Runs the block on <paramref name="input"/> [B, T, C].</summary>
    /// <param name="input">The residual stream, [B, T, C].</param>
    /// <param name="keyMask">Boolean [B, 1, 1, T], true where a key may be attended to; null for every key.</param>
    /// <returns>The new residual stream, [B, T, C].</returns>
    public override Tensor forward(Tensor input, Tensor? keyMask)
    {
        var residual = input + projection.forward(Attend(qkv.forward(firstNorm.forward(input)), keyMask));
        return residual + contract.forward(functional.gelu(expand.forward(secondNorm.forward(residual)), global::TorchSharp.Modules.GELU.Approximate.tanh));
    }

    /// <summary>
    /// The block's attention probabilities for <paramref name="input"/> [B, T, C] (the block's input), computed explicitly:
    /// <c>A = softmax(q·kᵀ/√hs + mask)</c> [B, H, T, T], the mask −∞ at future keys (causal) and at padding keys.
    /// </summary>
    /// <remarks>
    /// The forward pass runs fused scaled-dot-product attention, which never materialises A; this recomputes A from the
    /// same q and k for diagnostics only (an extra [B, H, T, T] tensor and matrix product), so training pays nothing for it.
    /// Rows of padding queries attend like any other, as in the forward pass.
    /// </remarks>
    /// <param name="input">The residual stream entering the block, [B, T, C].</param>
    /// <param name="keyMask">Boolean [B, 1, 1, T], true where a key may be attended to; null for every key.</param>
    /// <returns>Attention probabilities [B, H, T, T], each row summing to 1 over the keys it may attend to.</returns>
    public Tensor AttentionProbabilities(Tensor input, Tensor? keyMask)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (query, key, _) = Split(qkv.forward(firstNorm.forward(input)));
        var tokenCount = query.shape[2];
        var scores = query.matmul(key.transpose(2, 3)) / Math.Sqrt(query.shape[3]);          // [B, H, T, T]
        if (causal)
        {
            using var future = ones(tokenCount, tokenCount, dtype: ScalarType.Bool, device: scores.device).triu(1);
            scores = scores.masked_fill(future, double.NegativeInfinity);
        }

        if (keyMask is not null) scores = scores.masked_fill(keyMask.logical_not(), double.NegativeInfinity);
        return scores.softmax(3);
    }

    /// <summary>Multi-head attention over the fused projection [B, T, 3C]; returns the heads concatenated, [B, T, C].</summary>
    private Tensor Attend(Tensor fused, Tensor? keyMask)
    {
        var (batchSize, tokenCount, channels) = (fused.shape[0], fused.shape[1], fused.shape[2] / 3);
        var (query, key, value) = Split(fused);
        var attended = functional.scaled_dot_product_attention(query, key, value, attn_mask: keyMask, is_casual: causal);
        return attended.transpose(1, 2).reshape(batchSize, tokenCount, channels);
    }

    /// <summary><c>q, k, v = fused.split(C, 2)</c>, each viewed as heads [B, H, T, hs].</summary>
    private (Tensor Query, Tensor Key, Tensor Value) Split(Tensor fused)
    {
        var (batchSize, tokenCount, channels) = (fused.shape[0], fused.shape[1], fused.shape[2] / 3);
        var parts = fused.split(channels, 2);
        return (Heads(parts[0], batchSize, tokenCount, channels), Heads(parts[1], batchSize, tokenCount, channels), Heads(parts[2], batchSize, tokenCount, channels));
    }

    private Tensor Heads(Tensor part, long batchSize, long tokenCount, long channels) =>
        part.view(batchSize, tokenCount, headCount, channels / headCount).transpose(1, 2);
}
