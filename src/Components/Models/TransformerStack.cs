using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Models;

/// <summary>
/// The blocks of a transformer and the residual stream between them, followed by the final layer norm.
/// Shared by <see cref="GptModel"/> and <see cref="EncoderClassifier"/>.
/// </summary>
/// <remarks>
/// The residual stream is kept per block boundary: <see cref="BlockInput"/>(l) = hidden[l] and
/// <see cref="BlockOutput"/>(l) = hidden[l + 1], with their gradients after a backward pass, so layer
/// diagnostics (gradient norms, CKA) can read any block without hooks.
/// </remarks>
public sealed partial class TransformerStack
{
    private readonly TransformerConfig config;
    private readonly ParameterArena arena;
    private readonly TransformerBlock[] blocks;
    private readonly float[][] hidden;          // L+1 buffers [N, C]
    private readonly float[][] hiddenGradient;  // L+1 buffers [N, C]
    private float[] finalNormMean = [];         // [N]
    private float[] finalNormDeviation = [];    // [N]
    private int rows;

    internal TransformerStack(TransformerConfig config, ParameterArena arena, IReadOnlyList<TransformerBlockParameters> blockParameters, ParameterSlice finalNormScale, ParameterSlice finalNormShift, Func<ParameterSlice, bool> requiresGradient)
    {
        this.config = config;
        this.arena = arena;
        blocks = blockParameters.Select((parameters, layer) => new TransformerBlock(layer, config, arena, parameters, requiresGradient)).ToArray();
        hidden = new float[config.LayerCount + 1][];
        hiddenGradient = new float[config.LayerCount + 1][];
        for (var boundary = 0; boundary <= config.LayerCount; boundary++)
        {
            hidden[boundary] = [];
            hiddenGradient[boundary] = [];
        }

        FinalNormScale = finalNormScale;
        FinalNormShift = finalNormShift;
        RequiresGradient = requiresGradient;
    }

    /// <summary>The blocks, 0 nearest the embeddings.</summary>
    public IReadOnlyList<TransformerBlock> Blocks => blocks;

    internal ParameterSlice FinalNormScale { get; }

    internal ParameterSlice FinalNormShift { get; }

    internal Func<ParameterSlice, bool> RequiresGradient { get; }

    /// <summary>
    /// Whether the backward stops at <see cref="LowestLayerNeedingGradients"/> (false: all the way to the embeddings).
    /// A decision of the training path (<see cref="Lora.LoraModel.TruncateBackward"/>): below that block the activation
    /// gradients (<see cref="BlockInputGradient"/>, <see cref="BlockOutputGradient"/>) are stale, which layer diagnostics and
    /// DP per-example norms cannot accept.
    /// </summary>
    internal bool TruncateBackward { get; set; }

    /// <summary>
    /// The lowest block whose backward computes a gradient someone trains: the lowest with a trainable parameter or an adapted
    /// projection; <see cref="TransformerConfig.LayerCount"/> when no block has one; null when a trainable embedding needs the
    /// gradient of the whole stack.
    /// </summary>
    internal int? LowestLayerNeedingGradients()
    {
        foreach (var parameter in arena.Parameters)
        {
            if (parameter.Role is ParameterRole.TokenEmbedding or ParameterRole.PositionEmbedding && RequiresGradient(parameter)) return null;
        }

        for (var layer = 0; layer < blocks.Length; layer++)
        {
            if (blocks[layer].Adapter?.Adapts(layer) == true || blocks[layer].Parameters.All.Any(RequiresGradient)) return layer;
        }

        return blocks.Length;
    }

    /// <summary>The block the last backward stopped at (its input gradient not computed); null after a full backward.</summary>
    internal int? LastBackwardStop { get; private set; }

    /// <summary>Hidden states entering block <paramref name="layer"/> in the last forward pass, [N, C].</summary>
    public ReadOnlySpan<float> BlockInput(int layer) => Boundary(hidden, CheckLayer(layer));

    /// <summary>Hidden states leaving block <paramref name="layer"/> in the last forward pass, [N, C].</summary>
    public ReadOnlySpan<float> BlockOutput(int layer) => Boundary(hidden, CheckLayer(layer) + 1);

    /// <summary>dLoss/d(block input) from the last backward pass, [N, C].</summary>
    public ReadOnlySpan<float> BlockInputGradient(int layer) => Boundary(hiddenGradient, CheckLayer(layer));

    /// <summary>dLoss/d(block output) from the last backward pass, [N, C].</summary>
    public ReadOnlySpan<float> BlockOutputGradient(int layer) => Boundary(hiddenGradient, CheckLayer(layer) + 1);

    /// <summary>Where the embedding writes the stream's start, [N, C].</summary>
    internal Span<float> Input => hidden[0].AsSpan(0, rows * config.Channels);

    /// <summary>Where the embedding's backward reads dLoss/d(embedding output), [N, C].</summary>
    internal ReadOnlySpan<float> InputGradient => hiddenGradient[0].AsSpan(0, rows * config.Channels);

    internal void EnsureCapacity(int batchSize, int tokenCount)
    {
        rows = batchSize * tokenCount;
        var length = rows * config.Channels;
        for (var boundary = 0; boundary <= config.LayerCount; boundary++)
        {
            if (hidden[boundary].Length < length) hidden[boundary] = new float[length];
            if (hiddenGradient[boundary].Length < length) hiddenGradient[boundary] = new float[length];
        }

        if (finalNormMean.Length < rows)
        {
            finalNormMean = new float[rows];
            finalNormDeviation = new float[rows];
        }

        foreach (var block in blocks) block.EnsureCapacity(batchSize, tokenCount);
    }

    /// <summary>Runs every block over <see cref="Input"/>, then the final layer norm into <paramref name="normalized"/> [N, C].</summary>
    internal void Forward(ReadOnlySpan<byte> keyMask, bool causal, Span<float> normalized, Parallelism parallelism)
    {
        for (var layer = 0; layer < blocks.Length; layer++)
            blocks[layer].Forward(Boundary(hidden, layer), keyMask, causal, Writable(hidden, layer + 1), parallelism);
        LayerNorm.Forward(Boundary(hidden, blocks.Length), arena.ValuesOf(FinalNormScale), arena.ValuesOf(FinalNormShift), normalized,
            finalNormMean.AsSpan(0, rows), finalNormDeviation.AsSpan(0, rows), rows, config.Channels, parallelism);
    }

    /// <summary>
    /// Back-propagates dLoss/d(final norm output) to <see cref="InputGradient"/>, accumulating parameter gradients; with
    /// <see cref="TruncateBackward"/> it stops at <see cref="LowestLayerNeedingGradients"/> and leaves the input gradient alone.
    /// </summary>
    internal void Backward(ReadOnlySpan<float> normalizedGradient, Parallelism parallelism)
    {
        // The final norm's input gradient is written, not accumulated (no residual branch joins it): no clearing first.
        LayerNorm.Backward(normalizedGradient, Boundary(hidden, blocks.Length), arena.ValuesOf(FinalNormScale), finalNormMean.AsSpan(0, rows), finalNormDeviation.AsSpan(0, rows),
            ReadOnlySpan<float>.Empty, Writable(hiddenGradient, blocks.Length), Gradients(FinalNormScale), Gradients(FinalNormShift), rows, config.Channels, parallelism);
        var stop = TruncateBackward ? LowestLayerNeedingGradients() : null;
        LastBackwardStop = stop;
        for (var layer = blocks.Length - 1; layer >= (stop ?? 0); layer--)
            blocks[layer].Backward(Boundary(hidden, layer), Boundary(hiddenGradient, layer + 1), Writable(hiddenGradient, layer), parallelism, needInputGradient: stop is null || layer > stop);
    }

    internal Span<float> Gradients(ParameterSlice slice) => RequiresGradient(slice) ? arena.GradientsOf(slice) : Span<float>.Empty;

    private ReadOnlySpan<float> Boundary(float[][] buffers, int boundary) => buffers[boundary].AsSpan(0, rows * config.Channels);

    private Span<float> Writable(float[][] buffers, int boundary) => buffers[boundary].AsSpan(0, rows * config.Channels);

    private int CheckLayer(int layer)
    {
        if ((uint)layer >= (uint)blocks.Length)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The model has {blocks.Length} blocks.");
        return layer;
    }
}
