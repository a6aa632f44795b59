using System.Runtime.Intrinsics;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Heavy-ball momentum, as PyTorch's SGD (dampening 0): the update becomes the trace of past updates.</summary>
/// <remarks>
/// As optax's <c>trace</c>. <c>b = decay*b + u</c>; then <c>u &lt;- b</c>, or with Nesterov <c>u &lt;- u + decay*b</c>
/// (Sutskever et al. 2013, in PyTorch's form). The trace starts at 0, so step 1 gives <c>b = u</c>.
/// </remarks>
public sealed class TraceMomentum : IGradientTransform
{
    /// <summary>Creates the transform.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decay"/> is outside [0, 1).</exception>
    public TraceMomentum(double decay, bool nesterov = false)
    {
        Decay = OptionGuard.DecayRate(decay, nameof(decay));
        Nesterov = nesterov;
    }

    /// <summary>The momentum coefficient.</summary>
    public double Decay { get; }

    /// <summary>Whether to look ahead (Nesterov momentum).</summary>
    public bool Nesterov { get; }

    /// <inheritdoc />
    public TransformState Init(ParameterArena arena)
    {
        ArgumentNullException.ThrowIfNull(arena);
        return new MomentumState(nameof(TraceMomentum), Decay, arena.BufferLength);
    }

    /// <inheritdoc />
    public unsafe void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        var momentumState = TransformGuard.StateAs<MomentumState>(state, nameof(TraceMomentum));
        TransformGuard.CheckBuffers(updates, parameters, context);
        TransformGuard.CheckStateLength(momentumState.Momentum.Length, updates.Length, nameof(TraceMomentum));
        fixed (float* updatesPointer = updates)
        {
            ElementChunks.For(context, (Updates: (nint)updatesPointer, Trace: momentumState.Momentum, Decay: (float)Decay, Nesterov),
                static (in job, _, offset, length) =>
                {
                    var update = new Span<float>((float*)job.Updates + offset, length);
                    var trace = job.Trace.AsSpan(offset, length);
                    var done = Vector512.IsHardwareAccelerated
                        ? Apply<Vector512Value>(0, update, trace, job.Decay, job.Nesterov)
                        : Apply<VectorValue>(0, update, trace, job.Decay, job.Nesterov);
                    Apply<FloatValue>(done, update, trace, job.Decay, job.Nesterov);
                });
        }
    }

    /// <summary>The formula, for every backend: <c>b = decay*b + u</c>; <c>u = b</c>, or with Nesterov <c>u = u + decay*b</c>.</summary>
    /// <returns>The new trace and the update.</returns>
    internal static (T Trace, T Update) Formula<T>(T update, T trace, float decay, bool nesterov) where T : IUpdateArithmetic<T>
    {
        trace = T.Keep(decay * trace + update);
        return (trace, nesterov ? decay * trace + update : trace);
    }

    private static int Apply<TLanes>(int start, Span<float> update, Span<float> trace, float decay, bool nesterov) where TLanes : ILanes<TLanes>
    {
        var element = start;
        for (; element <= update.Length - TLanes.Count; element += TLanes.Count)
        {
            var (newTrace, newUpdate) = Formula(TLanes.Load(update, element), TLanes.Load(trace, element), decay, nesterov);
            newTrace.Store(trace, element);
            newUpdate.Store(update, element);
        }

        return element;
    }
}
