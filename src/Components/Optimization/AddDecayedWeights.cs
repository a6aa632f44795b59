using System.Runtime.Intrinsics;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Adds <c>weightDecay * theta</c> to the updates: decoupled weight decay, once a learning rate follows.</summary>
/// <remarks>
/// Loshchilov &amp; Hutter, arXiv 1711.05101; as optax's <c>add_decayed_weights</c>. <c>u &lt;- u + wd*theta</c>, so that
/// after <see cref="ScaleByLearningRate"/> the step is <c>-lr*(u + wd*theta)</c>. Apply it to matrices only by
/// wrapping it in <see cref="Masked"/>, as the aliases do.
/// </remarks>
public sealed class AddDecayedWeights : IGradientTransform
{
    /// <summary>Creates the transform.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="weightDecay"/> is negative, NaN or infinite.</exception>
    public AddDecayedWeights(double weightDecay) => WeightDecay = OptionGuard.NonNegative(weightDecay, nameof(weightDecay));

    /// <summary>The decay coefficient.</summary>
    public double WeightDecay { get; }

    /// <inheritdoc />
    public TransformState Init(ParameterArena arena) => new EmptyState(nameof(AddDecayedWeights));

    /// <inheritdoc />
    public unsafe void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        TransformGuard.StateAs<EmptyState>(state, nameof(AddDecayedWeights));
        TransformGuard.CheckBuffers(updates, parameters, context);
        if (WeightDecay == 0) return;
        fixed (float* updatesPointer = updates)
        fixed (float* parametersPointer = parameters)
        {
            ElementChunks.For(context, (Updates: (nint)updatesPointer, Parameters: (nint)parametersPointer, WeightDecay: (float)WeightDecay),
                static (in job, _, offset, length) =>
                {
                    var update = new Span<float>((float*)job.Updates + offset, length);
                    var theta = new ReadOnlySpan<float>((float*)job.Parameters + offset, length);
                    var done = Vector512.IsHardwareAccelerated
                        ? Apply<Vector512Value>(0, update, theta, job.WeightDecay)
                        : Apply<VectorValue>(0, update, theta, job.WeightDecay);
                    Apply<FloatValue>(done, update, theta, job.WeightDecay);
                });
        }
    }

    /// <summary>The formula, for every backend: <c>u = u + wd*theta</c>.</summary>
    internal static T Formula<T>(T update, T theta, float weightDecay) where T : IUpdateArithmetic<T> => update + weightDecay * theta;

    private static int Apply<TLanes>(int start, Span<float> update, ReadOnlySpan<float> theta, float weightDecay) where TLanes : ILanes<TLanes>
    {
        var element = start;
        for (; element <= update.Length - TLanes.Count; element += TLanes.Count)
            Formula(TLanes.Load(update, element), TLanes.Load(theta, element), weightDecay).Store(update, element);
        return element;
    }
}
