using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Sets the updates to zero, so the parameters do not move.</summary>
/// <remarks>As optax's <c>set_to_zero</c>; <see cref="Freeze"/> is <c>Masked(SetToZero(), mask)</c>.</remarks>
public sealed class SetToZero : IGradientTransform
{
    /// <inheritdoc />
    public TransformState Init(ParameterArena arena) => new EmptyState(nameof(SetToZero));

    /// <inheritdoc />
    public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        TransformGuard.StateAs<EmptyState>(state, nameof(SetToZero));
        TransformGuard.CheckBuffers(updates, parameters, context);
        var slices = context.Parameters;
        for (var index = 0; index < slices.Count; index++) updates[slices[index].Range].Clear();
    }
}
