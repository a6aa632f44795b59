using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Runs an inner transform on the selected parameters only; the other slices' updates pass through unchanged.</summary>
/// <remarks>
/// As optax's <c>masked</c>. The inner transform sees an <see cref="UpdateContext"/> listing only the slices the
/// predicate selects (among those of the incoming context), so it neither reads nor writes the others. Its state
/// buffers still span the whole arena (every state is laid out like the arena), so a mask saves time, not memory.
/// Example: weight decay on matrices only, <c>new Masked(new AddDecayedWeights(0.1), slice =&gt; slice.IsMatrix)</c>.
/// </remarks>
/// <param name="inner">The transform to restrict.</param>
/// <param name="predicate">Selects the parameters the inner transform acts on.</param>
public sealed class Masked(IGradientTransform inner, Func<ParameterSlice, bool> predicate) : IGradientTransform
{
    /// <summary>The restricted transform.</summary>
    public IGradientTransform Inner { get; } = OptionGuard.NotNull(inner, nameof(inner));

    /// <summary>Selects the parameters <see cref="Inner"/> acts on.</summary>
    public Func<ParameterSlice, bool> Predicate { get; } = OptionGuard.NotNull(predicate, nameof(predicate));

    /// <inheritdoc />
    public TransformState Init(ParameterArena arena) => new MaskedState(Inner.Init(arena));

    /// <inheritdoc />
    public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        var maskedState = TransformGuard.StateAs<MaskedState>(state, nameof(Masked));
        var selected = maskedState.Selection.Select(context.Parameters, Predicate);
        Inner.Update(updates, parameters, maskedState.Inner, context with { Parameters = selected });
    }
}

/// <summary>The state of a <see cref="Masked"/> transform: its inner transform's state.</summary>
public sealed class MaskedState : TransformState
{
    internal MaskedState(TransformState inner)
    {
        Inner = inner;
        Children = [inner];
    }

    /// <summary>The inner transform's state.</summary>
    public TransformState Inner { get; }

    /// <inheritdoc />
    public override string Kind => nameof(Masked);

    /// <inheritdoc />
    public override IReadOnlyList<TransformState> Children { get; }

    /// <summary>Remembers the last selection, so steady-state steps allocate nothing.</summary>
    internal SliceSelection Selection { get; } = new();

    /// <inheritdoc />
    public override void Write(BinaryWriter writer)
    {
        WriteKind(writer);
        WriteChildren(writer);
    }

    /// <inheritdoc />
    public override void Read(BinaryReader reader)
    {
        ReadKind(reader);
        ReadChildren(reader);
    }
}
