using System.Runtime.Intrinsics;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Replaces each update by its sign: +1, -1, or 0 for 0 (NaN stays NaN).</summary>
/// <remarks>The core of signSGD / Signum (Bernstein et al., arXiv 1802.04434) when it follows a momentum transform.</remarks>
public sealed class ScaleBySign : IGradientTransform
{
    /// <inheritdoc />
    public TransformState Init(ParameterArena arena) => new EmptyState(nameof(ScaleBySign));

    /// <inheritdoc />
    public unsafe void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        TransformGuard.StateAs<EmptyState>(state, nameof(ScaleBySign));
        TransformGuard.CheckBuffers(updates, parameters, context);
        fixed (float* updatesPointer = updates)
        {
            ElementChunks.For(context, (nint)updatesPointer, static (in updatesAddress, _, offset, length) =>
            {
                var update = new Span<float>((float*)updatesAddress + offset, length);
                var done = Vector512.IsHardwareAccelerated ? Apply<Vector512Value>(0, update) : Apply<VectorValue>(0, update);
                Apply<FloatValue>(done, update);
            });
        }
    }

    /// <summary>The formula, for every backend: <c>u = sign(u)</c>.</summary>
    internal static T Formula<T>(T update) where T : IUpdateArithmetic<T> => T.Sign(update);

    private static int Apply<TLanes>(int start, Span<float> update) where TLanes : ILanes<TLanes>
    {
        var element = start;
        for (; element <= update.Length - TLanes.Count; element += TLanes.Count) Formula(TLanes.Load(update, element)).Store(update, element);
        return element;
    }
}
