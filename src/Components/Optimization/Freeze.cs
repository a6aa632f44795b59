using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Keeps the selected parameters fixed: <c>Masked(SetToZero(), mask)</c>; other updates pass through.</summary>
/// <remarks>
/// As optax's <c>freeze</c>. Put it last in a chain (after the learning rate) or first (before any transform that
/// would turn a zero update into a non-zero one, such as weight decay).
/// </remarks>
/// <param name="mask">Selects the parameters to freeze.</param>
public sealed class Freeze(Func<ParameterSlice, bool> mask) : IGradientTransform
{
    private readonly Masked masked = new(new SetToZero(), mask);

    /// <summary>Selects the frozen parameters.</summary>
    public Func<ParameterSlice, bool> Mask => masked.Predicate;

    /// <inheritdoc />
    public TransformState Init(ParameterArena arena) => masked.Init(arena);

    /// <inheritdoc />
    public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context) =>
        masked.Update(updates, parameters, state, context);
}
