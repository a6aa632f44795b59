using Pipelines.Components.Models;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Privacy;

/// <summary>Per-example clipping of an <see cref="EncoderClassifier"/> over labelled sequences, one batched forward and backward pass per call.</summary>
/// <remarks>
/// Example i's loss is its cross-entropy; a chunk is padded to its longest sequence with token 0 and key mask 0, and
/// padded rows receive exactly zero gradient (masked attention keys, mean pooling over valid tokens), so they add
/// nothing to any norm or sum. The pass is that of <see cref="GptPerExampleClipping"/>: activation-only backward,
/// ghost norms (Li et al. 2021, arXiv 2110.05679), <c>sum_i c_i g_i</c> rebuilt from the kept buffers
/// (Bu et al. 2022, arXiv 2210.00038; Abadi et al. 2016, arXiv 1607.00133).
/// </remarks>
public sealed class EncoderPerExampleClipping : IPerExampleClippedGradients
{
    private readonly EncoderClassifier model;
    private readonly LabeledSequences data;
    private readonly TransformerClipping clipping;

    /// <summary>Binds <paramref name="model"/> to <paramref name="data"/> with <paramref name="groups"/>.</summary>
    /// <exception cref="ArgumentException">The data does not fit the model (token ids, labels or lengths).</exception>
    public EncoderPerExampleClipping(EncoderClassifier model, ClippingGroups groups, LabeledSequences data)
        : this(model, groups, data, adapter: null)
    {
    }

    /// <summary>As the public constructor, with a LoRA adapter attached to <paramref name="model"/> whose A and B are clipped too.</summary>
    internal EncoderPerExampleClipping(EncoderClassifier model, ClippingGroups groups, LabeledSequences data, PrivateLoraClipping? adapter)
    {
        this.model = model ?? throw new ArgumentNullException(nameof(model));
        ArgumentNullException.ThrowIfNull(groups);
        this.data = data ?? throw new ArgumentNullException(nameof(data));
        data.CheckFits(model.Config, model.ClassCount, nameof(data));
        clipping = new TransformerClipping(model.Parameters, groups, adapter);
    }

    /// <inheritdoc />
    public ParameterArena Parameters => model.Parameters;

    /// <inheritdoc />
    public ClippingGroups Groups => clipping.Groups;

    /// <inheritdoc />
    public int ExampleCount => data.Count;

    /// <summary>Each example's per-parameter squared gradient norm from the last call, [P, B] (P = the arena's parameters, 0 when frozen).</summary>
    public ReadOnlySpan<double> ParameterSquaredNorms => clipping.ParameterSquaredNorms;

    /// <inheritdoc />
    public bool IsTrainable(ParameterSlice parameter) => model.IsTrainable(parameter);

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the dataset.</exception>
    public PerExampleClippingReport AddClippedGradients(ReadOnlySpan<int> examples)
    {
        if (examples.IsEmpty) return new PerExampleClippingReport(0, 0, []);
        var tokenCount = 0;
        foreach (var example in examples)
        {
            if ((uint)example >= (uint)data.Count)
                throw new ArgumentOutOfRangeException(nameof(examples), example, $"The dataset has {data.Count} sequences.");
            tokenCount = Math.Max(tokenCount, data.Sequences[example].Length);
        }

        var (tokens, mask, labels) = (new int[examples.Length * tokenCount], new byte[examples.Length * tokenCount], new int[examples.Length]);
        for (var row = 0; row < examples.Length; row++)
        {
            var sequence = data.Sequences[examples[row]];
            sequence.CopyTo(tokens.AsSpan(row * tokenCount));
            mask.AsSpan(row * tokenCount, sequence.Length).Fill(1);
            labels[row] = data.Labels[examples[row]];
        }

        return AddClippedGradients(tokens, mask, labels, examples.Length, tokenCount);
    }

    /// <summary>Adds <c>sum_i c_i g_i</c> of the batch <paramref name="inputTokens"/> [B, T] with <paramref name="keyMask"/> [B, T] (empty = no padding) and <paramref name="labels"/> [B] to the gradients.</summary>
    /// <exception cref="ArgumentException">The batch does not fit the model (as <see cref="EncoderClassifier.Forward"/>).</exception>
    public PerExampleClippingReport AddClippedGradients(ReadOnlySpan<int> inputTokens, ReadOnlySpan<byte> keyMask, ReadOnlySpan<int> labels, int batchSize, int tokenCount)
    {
        model.Forward(inputTokens, keyMask, labels, batchSize, tokenCount);
        var weights = new float[batchSize];
        weights.AsSpan().Fill(1f); // each example's own loss
        var trainable = ActivationBackward.Run(model.Parameters, model.IsTrainable, model.SetTrainable, () => model.Backward(weights));
        clipping.Run(model.PerExampleTaps(), trainable, model.Parallelism);
        return new PerExampleClippingReport(batchSize, clipping.ClippedCount, clipping.GroupNorms.ToArray());
    }
}
