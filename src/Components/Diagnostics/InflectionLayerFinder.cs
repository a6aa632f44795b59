using Pipelines.Components.Lora;

namespace Pipelines.Components.Diagnostics;

/// <summary>The layers the finder chose, why, and the injection plan for them.</summary>
/// <param name="Slopes">d(l) = log Gh(l+1) - log Gh(l) for l = 0..L-2.</param>
/// <param name="EntropyMedian">The median of H(l) over all layers (raw or normalised, as the options chose).</param>
/// <param name="InflectionLayers">Layers chosen by slope and entropy, ascending.</param>
/// <param name="Layers">The chosen layers with any neighbours, ascending.</param>
/// <param name="Plan">Adapters for <paramref name="Layers"/>.</param>
public sealed record InflectionResult(IReadOnlyList<double> Slopes, double EntropyMedian, IReadOnlyList<int> InflectionLayers, IReadOnlyList<int> Layers, LoraInjectionPlan Plan);

/// <summary>Finds inflection layers: saturated attention together with a steep drop of the backward signal.</summary>
/// <remarks>
/// The diagnose-first paper (arXiv 2511.00797) describes inflection layers but gives no formula; ours:
/// <c>d(l) = log Gh(l+1) - log Gh(l)</c> for l = 0..L-2; candidates are layers with <c>H(l) &lt; median_l H(l)</c>;
/// among them take the k largest d(l), or those with <c>d(l) &gt; mean(d) + sd(d)</c> (population sd over all l);
/// optionally add one neighbour each side. The top layer has no d and is never an inflection layer itself.
/// </remarks>
public static class InflectionLayerFinder
{
    /// <summary>Chooses layers from per-layer <paramref name="metrics"/> (one per layer, any order) and emits a plan.</summary>
    /// <exception cref="ArgumentException">The metrics are empty, repeat a layer, skip one, or hold a gradient norm that is not positive and finite.</exception>
    public static InflectionResult Find(IReadOnlyList<LayerMetrics> metrics, InflectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(options);
        var ordered = metrics.OrderBy(metric => metric.Layer).ToArray();
        if (ordered.Length == 0) throw new ArgumentException("No layer metrics.", nameof(metrics));
        for (var layer = 0; layer < ordered.Length; layer++)
        {
            if (ordered[layer].Layer != layer)
                throw new ArgumentException($"Expected metrics for layers 0 to {ordered.Length - 1}; found layer {ordered[layer].Layer} at position {layer}.", nameof(metrics));
            var norm = ordered[layer].ActivationGradientNorm;
            if (!(norm > 0) || !double.IsFinite(norm))
                throw new ArgumentException($"Layer {layer}'s activation-gradient norm is {norm}; slopes need positive, finite norms.", nameof(metrics));
        }

        var slopes = Enumerable.Range(0, ordered.Length - 1)
            .Select(layer => Math.Log(ordered[layer + 1].ActivationGradientNorm) - Math.Log(ordered[layer].ActivationGradientNorm)).ToArray();
        var entropies = ordered.Select(metric => options.UseNormalizedEntropy ? metric.NormalizedAttentionEntropy : metric.AttentionEntropy).ToArray();
        var median = Median(entropies);
        var candidates = Enumerable.Range(0, slopes.Length).Where(layer => entropies[layer] < median);
        var chosen = options.Selection switch
        {
            InflectionSelection.TopCount => candidates.OrderByDescending(layer => slopes[layer]).ThenBy(layer => layer).Take(options.LayerCount),
            InflectionSelection.AboveMeanPlusDeviation => candidates.Where(layer => slopes[layer] > Threshold(slopes)),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Selection, "Unknown selection."),
        };
        var inflection = chosen.Order().ToArray();
        var layers = options.IncludeNeighbours
            ? inflection.SelectMany(layer => new[] { layer - 1, layer, layer + 1 }).Where(layer => layer >= 0 && layer < ordered.Length).Distinct().Order().ToArray()
            : inflection;
        var plan = LoraInjectionPlan.Uniform(layers, options.Rank, options.Alpha, options.Targets, options.Dropout, options.UseRsLora);
        return new InflectionResult(slopes, median, inflection, layers, plan);
    }

    private static double Threshold(double[] slopes)
    {
        if (slopes.Length == 0) return double.PositiveInfinity;
        var mean = slopes.Average();
        var deviation = Math.Sqrt(slopes.Sum(slope => (slope - mean) * (slope - mean)) / slopes.Length);
        return mean + deviation;
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
