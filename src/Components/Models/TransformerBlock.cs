using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Lora;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Models;

/// <summary>
/// One pre-LN transformer block: <c>r = x + Proj(Attention(LN1(x)))</c>, <c>y = r + Out(GELU(Fc(LN2(r))))</c>.
/// Holds its activations and the gradients flowing through them, which layer diagnostics read.
/// </summary>
/// <remarks>Legend: B = batch, T = tokens, C = channels, H = heads, N = B*T rows.</remarks>
public sealed partial class TransformerBlock
{
    private readonly TransformerConfig config;
    private readonly ParameterArena arena;
    private readonly Func<ParameterSlice, bool> requiresGradient;
    private int batchSize;
    private int tokenCount;
    private int rows;

    // Activations (first `rows` rows are live), shapes per row.
    private float[] firstNormOutput = [];   // [N, C]
    private float[] firstNormMean = [];     // [N]
    private float[] firstNormDeviation = []; // [N] reciprocal standard deviation
    private float[] qkv = [];               // [N, 3C]
    private float[] attentionOutput = [];   // [N, C]
    private float[] probabilities = [];     // [B, H, T, T]
    private float[] residual = [];          // [N, C] x + proj(attention)
    private float[] secondNormOutput = [];  // [N, C]
    private float[] secondNormMean = [];    // [N]
    private float[] secondNormDeviation = []; // [N]
    private float[] expanded = [];          // [N, 4C] fc output
    private float[] activated = [];         // [N, 4C] GELU output

    // Gradients of the activations above.
    private float[] residualGradient = [];       // [N, C]
    private float[] expandedGradient = [];       // [N, 4C] dL/d(GELU output) until GELU's backward turns it, in place, into dL/d(fc output)
    private float[] secondNormGradient = [];     // [N, C]
    private float[] attentionOutputGradient = []; // [N, C]
    private float[] qkvGradient = [];            // [N, 3C]
    private float[] firstNormGradient = [];      // [N, C]

    internal TransformerBlock(int layer, TransformerConfig config, ParameterArena arena, TransformerBlockParameters parameters, Func<ParameterSlice, bool> requiresGradient)
    {
        Layer = layer;
        this.config = config;
        this.arena = arena;
        Parameters = parameters;
        this.requiresGradient = requiresGradient;
    }

    /// <summary>Index of the block, 0 nearest the embeddings.</summary>
    public int Layer { get; }

    /// <summary>The block's parameter slices.</summary>
    public TransformerBlockParameters Parameters { get; }

    /// <summary>Adds LoRA terms to the block's four projections (set by <see cref="LoraModel"/>); null = none.</summary>
    internal IProjectionAdapter? Adapter { get; set; }

    /// <summary>Attention probabilities of the last forward pass, [B, H, T, T]; masked entries are 0.</summary>
    public ReadOnlySpan<float> AttentionProbabilities => probabilities.AsSpan(0, batchSize * config.HeadCount * tokenCount * tokenCount);

    /// <summary>The input of the fused qkv projection (LN1 output) of the last forward pass, [N, C].</summary>
    public ReadOnlySpan<float> QkvInput => firstNormOutput.AsSpan(0, rows * config.Channels);

    /// <summary>The gradient at the qkv projection's output from the last backward pass, [N, 3C].</summary>
    public ReadOnlySpan<float> QkvOutputGradient => qkvGradient.AsSpan(0, rows * 3 * config.Channels);

    internal void EnsureCapacity(int newBatchSize, int newTokenCount)
    {
        batchSize = newBatchSize;
        tokenCount = newTokenCount;
        rows = newBatchSize * newTokenCount;
        var channels = config.Channels;
        var hidden = config.HiddenChannels;
        ActivationBuffer.Grow(ref firstNormOutput, rows * channels);
        ActivationBuffer.Grow(ref firstNormMean, rows);
        ActivationBuffer.Grow(ref firstNormDeviation, rows);
        ActivationBuffer.Grow(ref qkv, rows * 3 * channels);
        ActivationBuffer.Grow(ref attentionOutput, rows * channels);
        ActivationBuffer.Grow(ref probabilities, newBatchSize * config.HeadCount * newTokenCount * newTokenCount);
        ActivationBuffer.Grow(ref residual, rows * channels);
        ActivationBuffer.Grow(ref secondNormOutput, rows * channels);
        ActivationBuffer.Grow(ref secondNormMean, rows);
        ActivationBuffer.Grow(ref secondNormDeviation, rows);
        ActivationBuffer.Grow(ref expanded, rows * hidden);
        ActivationBuffer.Grow(ref activated, rows * hidden);
        ActivationBuffer.Grow(ref residualGradient, rows * channels);
        ActivationBuffer.Grow(ref expandedGradient, rows * hidden);
        ActivationBuffer.Grow(ref secondNormGradient, rows * channels);
        ActivationBuffer.Grow(ref attentionOutputGradient, rows * channels);
        ActivationBuffer.Grow(ref qkvGradient, rows * 3 * channels);
        ActivationBuffer.Grow(ref firstNormGradient, rows * channels);
    }

    /// <summary>Runs the block: <paramref name="input"/> [N, C] to <paramref name="output"/> [N, C].</summary>
    internal void Forward(ReadOnlySpan<float> input, ReadOnlySpan<byte> keyMask, bool causal, Span<float> output, Parallelism parallelism)
    {
        var (channels, hidden) = (config.Channels, config.HiddenChannels);
        var p = Parameters;
        LayerNorm.Forward(input, Values(p.FirstNormScale), Values(p.FirstNormShift), Live(firstNormOutput, channels), Live(firstNormMean, 1), Live(firstNormDeviation, 1), rows, channels, parallelism);
        Linear.Forward(Live(firstNormOutput, channels), Values(p.QkvWeight), Values(p.QkvBias), Live(qkv, 3 * channels), rows, channels, 3 * channels, parallelism);
        Adapter?.Forward(Layer, LoraProjection.Qkv, Live(firstNormOutput, channels), Live(qkv, 3 * channels), rows, parallelism);
        Attention.Forward(Live(qkv, 3 * channels), keyMask, Live(attentionOutput, channels), probabilities.AsSpan(0, batchSize * config.HeadCount * tokenCount * tokenCount), batchSize, tokenCount, channels, config.HeadCount, causal, parallelism);
        Linear.Forward(Live(attentionOutput, channels), Values(p.ProjectionWeight), Values(p.ProjectionBias), Live(residual, channels), rows, channels, channels, parallelism);
        Adapter?.Forward(Layer, LoraProjection.Projection, Live(attentionOutput, channels), Live(residual, channels), rows, parallelism);
        Residual.Forward(input, Live(residual, channels), Live(residual, channels), rows * channels, parallelism);
        LayerNorm.Forward(Live(residual, channels), Values(p.SecondNormScale), Values(p.SecondNormShift), Live(secondNormOutput, channels), Live(secondNormMean, 1), Live(secondNormDeviation, 1), rows, channels, parallelism);
        Linear.Forward(Live(secondNormOutput, channels), Values(p.ExpandWeight), Values(p.ExpandBias), Live(expanded, hidden), rows, channels, hidden, parallelism);
        Adapter?.Forward(Layer, LoraProjection.Expand, Live(secondNormOutput, channels), Live(expanded, hidden), rows, parallelism);
        Gelu.Forward(Live(expanded, hidden), Live(activated, hidden), rows * hidden, parallelism);
        Linear.Forward(Live(activated, hidden), Values(p.ContractWeight), Values(p.ContractBias), output, rows, hidden, channels, parallelism);
        Adapter?.Forward(Layer, LoraProjection.Contract, Live(activated, hidden), output, rows, parallelism);
        Residual.Forward(Live(residual, channels), output, output, rows * channels, parallelism);
    }

    /// <summary>
    /// Back-propagates <paramref name="outputGradient"/> [N, C] through the block: accumulates parameter
    /// gradients into the arena and <em>overwrites</em> <paramref name="inputGradient"/> [N, C]; with
    /// <paramref name="needInputGradient"/> false it leaves <paramref name="inputGradient"/> alone and skips the work only it needs
    /// (the first layer norm's backward when its parameters are frozen, and with it the qkv projection's input gradient).
    /// </summary>
    internal void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, Parallelism parallelism, bool needInputGradient = true)
    {
        var (channels, hidden) = (config.Channels, config.HiddenChannels);
        var p = Parameters;
        // The temporaries below are overwritten (Gemm beta = 0), not accumulated, so they need no clearing; each
        // layer norm's backward adds its residual branch as it writes (dr = dy + LN2'(·), dx = dr + LN1'(·)), so
        // nothing is copied. outputGradient may be inputGradient itself: it is last read before inputGradient is written.
        Linear.Backward(outputGradient, Live(activated, hidden), Values(p.ContractWeight), Live(expandedGradient, hidden), Gradients(p.ContractWeight), Gradients(p.ContractBias), rows, hidden, channels, parallelism, overwriteInputGradient: true);
        Adapter?.Backward(Layer, LoraProjection.Contract, outputGradient, Live(activated, hidden), Live(expandedGradient, hidden), rows, parallelism);
        // In place: each element's output gradient is read before its input gradient is written over it.
        Gelu.Backward(Live(expandedGradient, hidden), Live(expanded, hidden), Live(expandedGradient, hidden), rows * hidden, parallelism, overwrite: true);
        Linear.Backward(Live(expandedGradient, hidden), Live(secondNormOutput, channels), Values(p.ExpandWeight), Live(secondNormGradient, channels), Gradients(p.ExpandWeight), Gradients(p.ExpandBias), rows, channels, hidden, parallelism, overwriteInputGradient: true);
        Adapter?.Backward(Layer, LoraProjection.Expand, Live(expandedGradient, hidden), Live(secondNormOutput, channels), Live(secondNormGradient, channels), rows, parallelism);
        LayerNorm.Backward(Live(secondNormGradient, channels), Live(residual, channels), Values(p.SecondNormScale), Live(secondNormMean, 1), Live(secondNormDeviation, 1), outputGradient, Live(residualGradient, channels), Gradients(p.SecondNormScale), Gradients(p.SecondNormShift), rows, channels, parallelism);
        Linear.Backward(Live(residualGradient, channels), Live(attentionOutput, channels), Values(p.ProjectionWeight), Live(attentionOutputGradient, channels), Gradients(p.ProjectionWeight), Gradients(p.ProjectionBias), rows, channels, channels, parallelism, overwriteInputGradient: true);
        Adapter?.Backward(Layer, LoraProjection.Projection, Live(residualGradient, channels), Live(attentionOutput, channels), Live(attentionOutputGradient, channels), rows, parallelism);
        Attention.Backward(Live(attentionOutputGradient, channels), Live(qkv, 3 * channels), probabilities.AsSpan(0, batchSize * config.HeadCount * tokenCount * tokenCount), Live(qkvGradient, 3 * channels), batchSize, tokenCount, channels, config.HeadCount, parallelism, overwrite: true);
        var needNormGradient = needInputGradient || requiresGradient(p.FirstNormScale) || requiresGradient(p.FirstNormShift);
        var firstNormGradientSpan = needNormGradient ? Live(firstNormGradient, channels) : Span<float>.Empty;
        Linear.Backward(Live(qkvGradient, 3 * channels), Live(firstNormOutput, channels), Values(p.QkvWeight), firstNormGradientSpan, Gradients(p.QkvWeight), Gradients(p.QkvBias), rows, channels, 3 * channels, parallelism, overwriteInputGradient: true);
        Adapter?.Backward(Layer, LoraProjection.Qkv, Live(qkvGradient, 3 * channels), Live(firstNormOutput, channels), firstNormGradientSpan, rows, parallelism);
        if (!needNormGradient) return;
        LayerNorm.Backward(Live(firstNormGradient, channels), input, Values(p.FirstNormScale), Live(firstNormMean, 1), Live(firstNormDeviation, 1), Live(residualGradient, channels), needInputGradient ? inputGradient : Span<float>.Empty, Gradients(p.FirstNormScale), Gradients(p.FirstNormShift), rows, channels, parallelism);
    }

    private ReadOnlySpan<float> Values(ParameterSlice slice) => arena.ValuesOf(slice);

    private Span<float> Gradients(ParameterSlice slice) => requiresGradient(slice) ? arena.GradientsOf(slice) : Span<float>.Empty;

    private Span<float> Live(float[] buffer, int width) => buffer.AsSpan(0, rows * width);
}
