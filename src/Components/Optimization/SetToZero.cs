using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Sets the updates to zero, so the parameters do not move.</summary>
/// <remarks>As optax's <c>set_to_zero</c>; <see cref="Freeze"/> is <c>Masked(SetToZero(), mask)</c>.</remarks>
public sealed class SetToZero : IGradientTransform
{
    /// <inheritdoc />
    public TransformState Init(ParameterArena arena) => new EmptyState(nameof(SetToZero));

    /// <inheritdoc />
    public unsafe void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        TransformGuard.StateAs<EmptyState>(state, nameof(SetToZero));
        TransformGuard.CheckBuffers(updates, parameters, context);
        fixed (float* updatesPointer = updates)
        {
            ElementChunks.For(context, (nint)updatesPointer,
                static (in updatesAddress, _, offset, length) => new Span<float>((float*)updatesAddress + offset, length).Clear());
        }
    }
}
