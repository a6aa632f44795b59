using System.Runtime.Intrinsics;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Replaces the updates by their exponential moving average <c>m = b1*m + (1-b1)*u</c> (not bias-corrected).</summary>
/// <remarks>
/// The momentum of Signum (Bernstein et al., arXiv 1802.04434) and of FOCUS (arXiv 2501.12243). Followed by
/// <see cref="ScaleBySign"/> the scale does not matter; the moving-average form is kept so that Signum here equals
/// FOCUS with gamma = 0 bit for bit.
/// </remarks>
public sealed class ScaleByMomentum : IGradientTransform
{
    /// <summary>Creates the transform.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="beta1"/> is outside [0, 1).</exception>
    public ScaleByMomentum(double beta1 = 0.9) => Beta1 = OptionGuard.DecayRate(beta1, nameof(beta1));

    /// <summary>The moving-average decay rate.</summary>
    public double Beta1 { get; }

    /// <inheritdoc />
    public TransformState Init(ParameterArena arena)
    {
        ArgumentNullException.ThrowIfNull(arena);
        return new MomentumState(nameof(ScaleByMomentum), Beta1, arena.BufferLength);
    }

    /// <inheritdoc />
    public unsafe void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        var momentumState = TransformGuard.StateAs<MomentumState>(state, nameof(ScaleByMomentum));
        TransformGuard.CheckBuffers(updates, parameters, context);
        TransformGuard.CheckStateLength(momentumState.Momentum.Length, updates.Length, nameof(ScaleByMomentum));
        var (decay, oneMinusDecay) = ((float)Beta1, (float)(1 - Beta1));
        fixed (float* updatesPointer = updates)
        {
            ElementChunks.For(context, (Updates: (nint)updatesPointer, momentumState.Momentum, Decay: decay, OneMinusDecay: oneMinusDecay),
                static (in job, _, offset, length) =>
                {
                    var update = new Span<float>((float*)job.Updates + offset, length);
                    var momentum = job.Momentum.AsSpan(offset, length);
                    var done = Vector512.IsHardwareAccelerated
                        ? Apply<Vector512Value>(0, update, momentum, job.Decay, job.OneMinusDecay)
                        : Apply<VectorValue>(0, update, momentum, job.Decay, job.OneMinusDecay);
                    Apply<FloatValue>(done, update, momentum, job.Decay, job.OneMinusDecay);
                });
        }
    }

    /// <summary>The formula, for every backend: <c>m = b1*m + (1-b1)*u</c>, and the update becomes m.</summary>
    /// <returns>The new momentum, which is also the update.</returns>
    internal static T Formula<T>(T update, T momentum, float decay, float oneMinusDecay) where T : IUpdateArithmetic<T> =>
        MovingAverage(update, momentum, decay, oneMinusDecay);

    /// <summary><c>average = decay*average + (1-decay)*value</c>; shared with <see cref="ScaleByFocus"/>.</summary>
    internal static T MovingAverage<T>(T value, T average, float decay, float oneMinusDecay) where T : IUpdateArithmetic<T> =>
        decay * average + oneMinusDecay * value;

    private static int Apply<TLanes>(int start, Span<float> update, Span<float> momentum, float decay, float oneMinusDecay) where TLanes : ILanes<TLanes>
    {
        var element = start;
        for (; element <= update.Length - TLanes.Count; element += TLanes.Count)
        {
            var average = Formula(TLanes.Load(update, element), TLanes.Load(momentum, element), decay, oneMinusDecay);
            average.Store(momentum, element);
            average.Store(update, element);
        }

        return element;
    }
}
