using ScottPlot;

namespace Pipelines.Experiments.Tests;

/// <summary>Reads back what a chart holds: its lines' legend texts, its cell texts, an axis's tick labels.</summary>
internal static class PlotContents
{
    public static string[] LegendTexts(Plot plot) => plot.GetPlottables<ScottPlot.Plottables.Scatter>().Select(line => line.LegendText).ToArray();

    public static string[] CellTexts(Plot plot) => plot.GetPlottables<ScottPlot.Plottables.Text>().Select(text => text.LabelText).ToArray();

    /// <summary>The left axis's labels from the top down.</summary>
    public static string[] RowLabels(Plot plot)
    {
        plot.RenderInMemory(400, 300);
        return plot.Axes.Left.TickGenerator.Ticks.Where(tick => tick.IsMajor).OrderByDescending(tick => tick.Position).Select(tick => tick.Label).ToArray();
    }
}
