using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Replaces each update by its sign: +1, -1, or 0 for 0 (NaN stays NaN).</summary>
/// <remarks>The core of signSGD / Signum (Bernstein et al., arXiv 1802.04434) when it follows a momentum transform.</remarks>
public sealed class ScaleBySign : IGradientTransform
{
    /// <inheritdoc />
    public TransformState Init(ParameterArena arena) => new EmptyState(nameof(ScaleBySign));

    /// <inheritdoc />
    public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        TransformGuard.StateAs<EmptyState>(state, nameof(ScaleBySign));
        TransformGuard.CheckBuffers(updates, parameters, context);
        var slices = context.Parameters;
        for (var index = 0; index < slices.Count; index++)
        {
            var update = updates[slices[index].Range];
            for (var element = 0; element < update.Length; element++) update[element] = Sign(update[element]);
        }
    }

    /// <summary>+1 for positive, -1 for negative, 0 for zero; NaN passes through (Math.Sign would throw).</summary>
    internal static float Sign(float value) => value > 0 ? 1f : value < 0 ? -1f : value == 0 ? 0f : value;
}
