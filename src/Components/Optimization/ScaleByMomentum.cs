using System.Numerics.Tensors;
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
    public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        var momentumState = TransformGuard.StateAs<MomentumState>(state, nameof(ScaleByMomentum));
        TransformGuard.CheckBuffers(updates, parameters, context);
        TransformGuard.CheckStateLength(momentumState.Momentum.Length, updates.Length, nameof(ScaleByMomentum));
        var slices = context.Parameters;
        for (var index = 0; index < slices.Count; index++)
        {
            var range = slices[index].Range;
            var update = updates[range];
            var momentum = momentumState.Momentum.AsSpan(range);
            MovingAverage(update, momentum, (float)Beta1, (float)(1 - Beta1));
            momentum.CopyTo(update);
        }
    }

    /// <summary><c>average = decay*average + (1-decay)*value</c>, elementwise; shared with <see cref="ScaleByFocus"/>.</summary>
    internal static void MovingAverage(ReadOnlySpan<float> value, Span<float> average, float decay, float oneMinusDecay)
    {
        TensorPrimitives.Multiply(average, decay, average);
        TensorPrimitives.MultiplyAdd(value, oneMinusDecay, average, average);
    }
}
