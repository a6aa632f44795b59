using System.Globalization;
using CsvHelper;
using Pipelines.Components.Diagnostics;
using ScottPlot;

namespace Pipelines.Components.Tests.Diagnostics;

/// <summary>
/// Writes layer diagnostics as a CSV (every metric per layer, CsvHelper) and a ScottPlot figure (SVG and PNG) with the
/// chosen layers marked. Kept outside the engine (src/Components draws no charts); a candidate to move to samples/.
/// </summary>
internal static class LayerDiagnosticsReport
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

    /// <summary>Writes <paramref name="path"/> as CSV (RFC 4180, invariant numbers, empty cells for absent values).</summary>
    public static void WriteCsv(string path, IReadOnlyList<LayerMetrics> metrics, InflectionResult result)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        using var writer = CsvWriter.Create(stream, CsvWriterOptions.Default with { NewLine = "\n", Separator = ',' }, leaveOpen: true);
        writer.WriteHeader(typeof(Row).GetProperties().Select(property => property.Name).ToArray());
        foreach (var row in Rows(metrics, result))
        {
            writer.WriteRecord(new[]
            {
                Format(row.Layer), Format(row.AttentionEntropy), Format(row.NormalizedAttentionEntropy), Format(row.ActivationGradientNorm),
                Format(row.ParameterGradientNorm), Format(row.Slope), Format(row.Cka), Format(row.DeltaCka), row.Inflection.ToString(), row.Chosen.ToString(),
            });
        }
    }

    private static string Format(double? value) => value is { } number ? number.ToString("R", CultureInfo.InvariantCulture) : "";

    /// <summary>H(l) on the left axis, log10 Gh(l) and log10 Gw(l) on the right; chosen layers as dashed lines, inflection layers as large markers.</summary>
    public static Plot Figure(IReadOnlyList<LayerMetrics> metrics, InflectionResult result)
    {
        var ordered = metrics.OrderBy(metric => metric.Layer).ToArray();
        double[] layers = ordered.Select(metric => (double)metric.Layer).ToArray();
        var plot = new Plot();
        var entropy = plot.Add.Scatter(layers, ordered.Select(metric => metric.AttentionEntropy).ToArray());
        entropy.LegendText = "H(l) attention entropy";
        var activation = plot.Add.Scatter(layers, ordered.Select(metric => Math.Log10(metric.ActivationGradientNorm)).ToArray());
        activation.LegendText = "log10 Gh(l)";
        activation.Axes.YAxis = plot.Axes.Right;
        var parameter = plot.Add.Scatter(layers, ordered.Select(metric => Math.Log10(Math.Max(metric.ParameterGradientNorm, 1e-30))).ToArray());
        parameter.LegendText = "log10 Gw(l)";
        parameter.Axes.YAxis = plot.Axes.Right;
        foreach (var layer in result.Layers)
        {
            var line = plot.Add.VerticalLine(layer);
            line.LinePattern = LinePattern.Dashed;
            line.Color = Colors.Gray;
        }

        foreach (var layer in result.InflectionLayers)
        {
            var marker = plot.Add.Marker(layer, ordered[layer].AttentionEntropy, MarkerShape.FilledCircle, 14);
            marker.Color = Colors.Red;
            marker.LegendText = $"inflection layer {layer}";
        }

        plot.Title("Layer diagnostics (arXiv 2511.00797): chosen layers dashed");
        plot.XLabel("layer");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        plot.YLabel("entropy (nats)");
        plot.Axes.Right.Label.Text = "log10 gradient norm";
        plot.ShowLegend();
        return plot;
    }

    /// <summary>Saves the figure as SVG and PNG (<paramref name="basePath"/> + .svg / .png).</summary>
    public static (string Svg, string Png) WriteFigure(string basePath, IReadOnlyList<LayerMetrics> metrics, InflectionResult result, int width = 800, int height = 500)
    {
        var plot = Figure(metrics, result);
        var (svg, png) = (basePath + ".svg", basePath + ".png");
        plot.SaveSvg(svg, width, height);
        plot.SavePng(png, width, height);
        return (svg, png);
    }
}
