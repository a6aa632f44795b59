using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Lora;

/// <summary>
/// The base model's optimizer under LoRA: the inner chain acts on the base parameters that still train (such as a new
/// classification head) and every frozen one keeps a zero update; the adaptation is part of the transform's description.
/// </summary>
/// <remarks>
/// <c>Masked(inner, trainable)</c> followed by <c>Freeze(not trainable)</c> (optax style), so weight decay cannot move a frozen
/// weight. <see cref="Adaptation"/> is a public property, so the run record (<c>RunRecord.Describe</c>) holds it and a
/// checkpoint written under one injection plan refuses to resume under another, naming both. LoRA: arXiv 2106.09685.
/// </remarks>
/// <param name="inner">The optimizer chain of the trainable base parameters.</param>
/// <param name="adaptation">What is adapted, as text (the injection plan's JSON).</param>
/// <param name="trainable">Selects the base parameters that train.</param>
public sealed class AdaptedBaseUpdate(IGradientTransform inner, string adaptation, Func<ParameterSlice, bool> trainable) : IGradientTransform, IPartialTransform
{
    private readonly Chain chain = new(
        new Masked(inner ?? throw new ArgumentNullException(nameof(inner)), trainable ?? throw new ArgumentNullException(nameof(trainable))),
        new Freeze(slice => !trainable(slice)));

    /// <summary>The optimizer chain of the trainable base parameters.</summary>
    public IGradientTransform Inner { get; } = inner;

    /// <summary>The adaptation (injection plan JSON) recorded with the run.</summary>
    public string Adaptation { get; } = adaptation ?? throw new ArgumentNullException(nameof(adaptation));

    /// <summary>Selects the base parameters that train.</summary>
    public Func<ParameterSlice, bool> Trainable { get; } = trainable;

    /// <inheritdoc />
    public TransformState Init(ParameterArena arena) => chain.Init(arena);

    // Freeze zeroes every frozen slice's update: the optimizer may skip them.
    bool IPartialTransform.Moves(ParameterSlice slice) => Trainable(slice);

    /// <inheritdoc />
    public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context) =>
        chain.Update(updates, parameters, state, context);
}
