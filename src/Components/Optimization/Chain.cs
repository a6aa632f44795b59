using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Applies transforms one after the other: the output updates of each are the input of the next.</summary>
/// <remarks>As optax's <c>chain</c>: <c>AdamW = Chain(ScaleByAdam, Masked(AddDecayedWeights), ScaleByLearningRate)</c>.</remarks>
public sealed class Chain : IGradientTransform
{
    private readonly IGradientTransform[] transforms;

    /// <summary>Chains <paramref name="transforms"/> in order.</summary>
    /// <exception cref="ArgumentException">The list is empty or holds a null.</exception>
    public Chain(params IGradientTransform[] transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        if (transforms.Length == 0) throw new ArgumentException("A chain needs at least one transform.", nameof(transforms));
        for (var index = 0; index < transforms.Length; index++)
        {
            if (transforms[index] is null) throw new ArgumentException($"Transform {index} of the chain is null.", nameof(transforms));
        }

        this.transforms = (IGradientTransform[])transforms.Clone();
    }

    /// <summary>The chained transforms, in order.</summary>
    public IReadOnlyList<IGradientTransform> Transforms => transforms;

    /// <inheritdoc />
    public TransformState Init(ParameterArena arena)
    {
        ArgumentNullException.ThrowIfNull(arena);
        var states = new TransformState[transforms.Length];
        for (var index = 0; index < transforms.Length; index++) states[index] = transforms[index].Init(arena);
        return new ChainState(states);
    }

    /// <inheritdoc />
    public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        var chainState = TransformGuard.StateAs<ChainState>(state, nameof(Chain));
        if (chainState.Children.Count != transforms.Length)
            throw new ArgumentException($"The chain has {transforms.Length} transforms but its state has {chainState.Children.Count}.", nameof(state));
        for (var index = 0; index < transforms.Length; index++)
            transforms[index].Update(updates, parameters, chainState.Children[index], context);
    }
}

/// <summary>The states of a <see cref="Chain"/>'s transforms, in order.</summary>
public sealed class ChainState : TransformState
{
    private readonly TransformState[] states;

    internal ChainState(TransformState[] states) => this.states = states;

    /// <inheritdoc />
    public override string Kind => nameof(Chain);

    /// <inheritdoc />
    public override IReadOnlyList<TransformState> Children => states;

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
