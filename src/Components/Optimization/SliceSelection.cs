using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>
/// The slices of a context that a predicate selects, remembered for the last context list seen: the training
/// loop passes the same list every step, so the filter runs once and steps allocate nothing.
/// </summary>
internal sealed class SliceSelection
{
    private IReadOnlyList<ParameterSlice>? source;
    private ParameterSlice[] selected = [];

    /// <summary>The slices of <paramref name="parameters"/> (in order) that <paramref name="predicate"/> selects.</summary>
    public IReadOnlyList<ParameterSlice> Select(IReadOnlyList<ParameterSlice> parameters, Func<ParameterSlice, bool> predicate)
    {
        if (ReferenceEquals(parameters, source)) return selected;
        var chosen = new List<ParameterSlice>(parameters.Count);
        for (var index = 0; index < parameters.Count; index++)
        {
            if (predicate(parameters[index])) chosen.Add(parameters[index]);
        }

        selected = chosen.ToArray();
        source = parameters;
        return selected;
    }
}
