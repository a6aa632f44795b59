using Pipelines.Components.Compute;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>
/// One small step of an optimizer, in the manner of optax: <see cref="Init"/> makes the state (an explicit
/// value the caller holds and checkpoints), <see cref="Update"/> rewrites the update buffer in place.
/// </summary>
/// <remarks>
/// The update buffer is laid out like <see cref="ParameterArena.Values"/>. It enters the first transform of
/// a chain holding the gradients and leaves the last one holding the delta that is <em>added</em> to the
/// parameters (so a learning-rate transform multiplies by <c>-lr</c>). A transform touches only the slices
/// named in <see cref="UpdateContext.Parameters"/>; that is how <c>Masked</c> restricts an inner transform.
/// </remarks>
public interface IGradientTransform
{
    /// <summary>Creates the transform's initial state for the parameters of <paramref name="arena"/>.</summary>
    TransformState Init(ParameterArena arena);

    /// <summary>Rewrites <paramref name="updates"/> for the slices in <paramref name="context"/>.</summary>
    /// <param name="updates">In: incoming updates (gradients for the first transform). Out: transformed updates.</param>
    /// <param name="parameters">The current parameter values, laid out like the arena.</param>
    /// <param name="state">The state made by <see cref="Init"/>; updated in place.</param>
    /// <param name="context">The step (1 for the first update) and the slices to act on.</param>
    void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context);
}

/// <summary>What a transform needs besides the buffers.</summary>
/// <param name="Step">The update about to be applied, counting from 1.</param>
/// <param name="Parameters">The parameter slices this transform acts on.</param>
public readonly record struct UpdateContext(long Step, IReadOnlyList<ParameterSlice> Parameters)
{
    /// <summary>The threads the transform may use (default <see cref="Parallelism.Sequential"/>).</summary>
    /// <remarks>
    /// The built-in transforms split their elementwise loops into chunks over these threads and give the same bits for any
    /// thread count (<see cref="ClipByGlobalNorm"/>'s sum of squares is reduced in a fixed order). A transform may ignore it;
    /// one that uses it must keep its result independent of the thread count. Combinators pass it on to their inner transforms.
    /// </remarks>
    public Parallelism Parallelism { get; init; }
}
