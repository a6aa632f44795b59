using System.Globalization;
using Pipelines.Reporting;
using Pipelines.Components.Diagnostics;
using ScottPlot;

namespace LayerDiagnostics;

/// <summary>
/// Writes a layer diagnosis as a CSV (every metric per layer, CsvHelper) and a ScottPlot figure (SVG and PNG) with the chosen
/// layers marked: H(l) on the left axis; log10 Gh(l), log10 Gw(l) and dCKA(l) on the right. arXiv 2511.00797.
/// </summary>
internal static class LayerReport
{
    /// <summary>One CSV row.</summary>
    internal sealed record Row(
        int Layer, double AttentionEntropy, double NormalizedAttentionEntropy, double ActivationGradientNorm, double ParameterGradientNorm,
        double? Slope, double? Cka, double? DeltaCka, bool Inflection, bool Chosen);

    /// <summary>The rows: metrics, slope d(l) (none for the top layer), and whether the finder chose the layer.</summary>
    public static IReadOnlyList<Row> Rows(IReadOnlyList<LayerMetrics> metrics, InflectionResult result) =>
        metrics.OrderBy(metric => metric.Layer).Select(metric => new Row(
            metric.Layer, metric.AttentionEntropy, metric.NormalizedAttentionEntropy, metric.ActivationGradientNorm, metric.ParameterGradientNorm,
            metric.Layer < result.Slopes.Count ? result.Slopes[metric.Layer] : null, metric.Cka, metric.DeltaCka,
            result.InflectionLayers.Contains(metric.Layer), result.Layers.Contains(metric.Layer))).ToArray();

    /// <summary>Writes <paramref name="path"/> as CSV (invariant numbers, empty cells for absent values).</summary>
    public static void WriteCsv(string path, IReadOnlyList<LayerMetrics> metrics, InflectionResult result)
    {
        MetricsCsv.Write(path, Rows(metrics, result));
    }

    /// <summary>Saves the figure as <paramref name="basePath"/>.svg and .png.</summary>
    public static void WriteFigure(string basePath, string title, IReadOnlyList<LayerMetrics> metrics, InflectionResult result)
    {
        var ordered = metrics.OrderBy(metric => metric.Layer).ToArray();
        double[] layers = [.. ordered.Select(metric => (double)metric.Layer)];
        var plot = new Plot();
        var entropy = plot.Add.Scatter(layers, ordered.Select(metric => metric.AttentionEntropy).ToArray());
        entropy.LegendText = "H(l) attention entropy (nats)";
        var activation = plot.Add.Scatter(layers, ordered.Select(metric => Math.Log10(metric.ActivationGradientNorm)).ToArray());
        activation.LegendText = "log10 Gh(l)";
        activation.Axes.YAxis = plot.Axes.Right;
        var parameter = plot.Add.Scatter(layers, ordered.Select(metric => Math.Log10(Math.Max(metric.ParameterGradientNorm, 1e-30))).ToArray());
        parameter.LegendText = "log10 Gw(l)";
        parameter.Axes.YAxis = plot.Axes.Right;
        if (ordered.All(metric => metric.DeltaCka is not null))
        {
            var delta = plot.Add.Scatter(layers, ordered.Select(metric => metric.DeltaCka!.Value).ToArray());
            delta.LegendText = "dCKA(l) vs the pre-trained model";
        }

        foreach (var layer in result.Layers)
        {
            var line = plot.Add.VerticalLine(layer); // solid: Skia's SVG backend cannot write a dash pattern
            line.Color = Colors.Gray.WithAlpha(0.5);
            line.LineWidth = 6;
        }

        foreach (var layer in result.InflectionLayers)
        {
            var marker = plot.Add.Marker(layer, ordered[layer].AttentionEntropy, MarkerShape.FilledCircle, 14);
            marker.Color = Colors.Red;
            marker.LegendText = $"inflection layer {layer}";
        }

        plot.Title(title);
        plot.XLabel("layer (chosen layers: grey bands)");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        plot.YLabel("entropy (nats), dCKA");
        plot.Axes.Right.Label.Text = "log10 gradient norm";
        plot.ShowLegend();
        plot.SaveSvg(basePath + ".svg", 900, 550);
        plot.SavePng(basePath + ".png", 900, 550);
    }
}
