using Pipelines.Components.Kernels;
using Pipelines.Components.Models;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Privacy;

/// <summary>Per-example clipping of a <see cref="GptModel"/> over a set of token sequences, one batched forward and backward pass per call.</summary>
/// <remarks>
/// <para>
/// Example i is a sequence s_i of at least two tokens; its loss is the mean next-token cross-entropy over its T_i - 1
/// targets (inputs <c>s_i[..^1]</c>, targets <c>s_i[1..]</c>), which is what a batch of one gives. Shorter sequences
/// of a chunk are padded with token 0 and ignored targets, so they change neither loss nor gradient.
/// </para>
/// <para>
/// One pass: forward; backward with per-position loss weights <c>1 / T_i</c> that computes only activation gradients
/// (parameter gradients are skipped); every trainable parameter's per-example norm from the kept activations
/// (ghost norms, Li et al. 2021, arXiv 2110.05679; the tied head's cross term included); then <c>sum_i c_i g_i</c>
/// with <c>c_i = min(1, C / (||g_i|| + 1e-6))</c> per group rebuilt from the same buffers (Bu et al. 2022,
/// arXiv 2210.00038) and added to the arena's gradients (Abadi et al. 2016, arXiv 1607.00133).
/// </para>
/// </remarks>
public sealed class GptPerExampleClipping : IPerExampleClippedGradients
{
    private readonly GptModel model;
    private readonly IReadOnlyList<int[]> sequences;
    private readonly TransformerClipping clipping;

    /// <summary>Binds <paramref name="model"/> to <paramref name="sequences"/> with <paramref name="groups"/>.</summary>
    /// <exception cref="ArgumentException">A sequence has fewer than two tokens or more than the context length plus one.</exception>
    public GptPerExampleClipping(GptModel model, ClippingGroups groups, IReadOnlyList<int[]> sequences)
    {
        this.model = model ?? throw new ArgumentNullException(nameof(model));
        ArgumentNullException.ThrowIfNull(groups);
        this.sequences = sequences ?? throw new ArgumentNullException(nameof(sequences));
        for (var index = 0; index < sequences.Count; index++)
        {
            var length = sequences[index]?.Length ?? 0;
            if (length < 2 || length > model.Config.ContextLength + 1)
                throw new ArgumentException($"sequences[{index}] has {length} tokens; each needs 2 to {model.Config.ContextLength + 1}.", nameof(sequences));
        }

        clipping = new TransformerClipping(model.Parameters, groups);
    }

    /// <inheritdoc />
    public ParameterArena Parameters => model.Parameters;

    /// <inheritdoc />
    public ClippingGroups Groups => clipping.Groups;

    /// <inheritdoc />
    public int ExampleCount => sequences.Count;

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
        foreach (var example in examples) tokenCount = Math.Max(tokenCount, Sequence(example).Length - 1);
        var (inputs, targets) = (new int[examples.Length * tokenCount], new int[examples.Length * tokenCount]);
        targets.AsSpan().Fill(SoftmaxCrossEntropy.IgnoredTarget);
        for (var row = 0; row < examples.Length; row++)
        {
            var sequence = sequences[examples[row]];
            sequence.AsSpan(0, sequence.Length - 1).CopyTo(inputs.AsSpan(row * tokenCount));
            sequence.AsSpan(1).CopyTo(targets.AsSpan(row * tokenCount));
        }

        return AddClippedGradients(inputs, targets, examples.Length, tokenCount);
    }

    /// <summary>Adds <c>sum_i c_i g_i</c> of the batch <paramref name="inputTokens"/> / <paramref name="targetTokens"/> [B, T] (targets -1 ignored) to the gradients.</summary>
    /// <exception cref="ArgumentException">The batch does not fit the model (as <see cref="GptModel.Forward"/>).</exception>
    public PerExampleClippingReport AddClippedGradients(ReadOnlySpan<int> inputTokens, ReadOnlySpan<int> targetTokens, int batchSize, int tokenCount)
    {
        model.Forward(inputTokens, targetTokens, batchSize, tokenCount);
        var weights = new float[batchSize * tokenCount]; // dLoss/dloss_row = 1 / T_i: each example's own mean loss
        for (var example = 0; example < batchSize; example++)
        {
            var rows = weights.AsSpan(example * tokenCount, tokenCount);
            var valid = 0;
            foreach (var target in targetTokens.Slice(example * tokenCount, tokenCount)) valid += target >= 0 ? 1 : 0;
            rows.Fill(valid == 0 ? 0f : 1f / valid);
        }

        var trainable = ActivationBackward.Run(model.Parameters, model.IsTrainable, model.SetTrainable, () => model.Backward(weights));
        clipping.Run(model.PerExampleTaps(), trainable, model.Parallelism);
        return new PerExampleClippingReport(batchSize, clipping.ClippedCount, clipping.GroupNorms.ToArray());
    }

    private int[] Sequence(int example)
    {
        if ((uint)example >= (uint)sequences.Count)
            throw new ArgumentOutOfRangeException(nameof(example), example, $"The dataset has {sequences.Count} sequences.");
        return sequences[example];
    }
}
