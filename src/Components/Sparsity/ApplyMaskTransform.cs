using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Sparsity;

/// <summary>
/// Zeroes the updates of pruned weights, so that in <c>Chain(inner..., ApplyMask)</c> a pruned weight receives
/// no update whatever the inner transforms' momenta, averages or weight decay would do.
/// </summary>
/// <remarks>
/// <para>Sparse pre-training (arXiv 2501.12486) keeps pruned weights exactly zero: the mask applies to the
/// weights, the gradients and the optimizer state. The transform reads the live <see cref="Mask"/> (the one a
/// <see cref="GradualPruner"/> updates), so it holds no state of its own.</para>
/// <para>Each training step, in this order:</para>
/// <list type="number">
/// <item>forward, backward (gradients accumulate into the arena);</item>
/// <item><see cref="MaskGradients"/> on the arena's gradients, so no statistic of a pruned weight moves;</item>
/// <item>the optimizer step, whose chain ends with this transform (pruned updates are exactly 0);</item>
/// <item><see cref="GradualPruner.OnStepCompleted"/>: masks the values again (belt and braces), records the
/// non-zero count and, at a pruning step, extends the mask, zeroes the newly pruned values and calls back to
/// zero the optimizer-state entries of pruned weights (<see cref="MaskState(TransformState)"/>).</item>
/// </list>
/// <para>Without this transform a momentum built up before pruning keeps moving a pruned weight (and FOCUS's
/// attraction to its parameter average pulls it back towards its old value); the tests show both.</para>
/// </remarks>
public sealed class ApplyMaskTransform : IGradientTransform
{
    /// <summary>Creates the transform over <paramref name="mask"/> (shared, not copied).</summary>
    public ApplyMaskTransform(PruningMask mask) => Mask = mask ?? throw new ArgumentNullException(nameof(mask));

    /// <summary>The mask applied to updates.</summary>
    public PruningMask Mask { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="arena"/> does not have the mask's layout.</exception>
    public TransformState Init(ParameterArena arena)
    {
        Mask.RequireLayoutOf(arena, nameof(arena));
        return new EmptyState(nameof(ApplyMaskTransform)); // the mask lives in the pruner's checkpoint
    }

    /// <inheritdoc />
    public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        Mask.RequireBufferLength(updates.Length, nameof(updates));
        foreach (var slice in context.Parameters)
        {
            var position = Mask.PositionOf(slice);
            if (position >= 0) Mask.ApplyToSlice(updates, position);
        }
    }

    /// <summary>Zeroes the gradients of pruned weights (step 2 of the order above).</summary>
    public void MaskGradients(Span<float> gradients) => Mask.ApplyTo(gradients);

    /// <summary>Zeroes the pruned entries of one optimizer-state buffer laid out like the arena.</summary>
    public void MaskState(Span<float> stateBuffer) => Mask.ApplyTo(stateBuffer);

    /// <summary>
    /// Zeroes the pruned entries of every buffer of <paramref name="state"/> and its descendants that implements
    /// <see cref="IParameterBufferState"/>.
    /// </summary>
    /// <returns>How many buffers were masked (0 means the state exposes none: check your optimizer).</returns>
    public int MaskState(TransformState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var masked = 0;
        if (state is IParameterBufferState shaped)
        {
            foreach (var stateBuffer in shaped.Buffers)
            {
                Mask.ApplyTo(stateBuffer);
                masked++;
            }
        }

        foreach (var child in state.Children) masked += MaskState(child);
        return masked;
    }
}
