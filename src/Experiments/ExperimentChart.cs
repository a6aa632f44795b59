using ScottPlot;

namespace Pipelines.Experiments;

/// <summary>The experiments' charts, drawn with ScottPlot: line charts of named series and labelled heat maps, saved as SVG and PNG.</summary>
/// <remarks>A chart is a <see cref="Plot"/>, which is disposable: the caller owns what these methods return.</remarks>
public static class ExperimentChart
{
    /// <summary>An empty chart with a title, axis labels and a legend.</summary>
    public static Plot Create(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>Adds a named line through the points <c>(x[i], y[i])</c>.</summary>
    /// <exception cref="ArgumentException">The two arrays differ in length.</exception>
    public static void AddLine(Plot plot, string name, double[] x, double[] y)
    {
        ArgumentNullException.ThrowIfNull(plot);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Length != y.Length) throw new ArgumentException($"The series '{name}' has {x.Length} x values and {y.Length} y values.", nameof(y));
        var line = plot.Add.ScatterLine(x, y);
        line.LegendText = name;
    }

    /// <summary>
    /// A heat map of <paramref name="values"/> (row 0 on top) with labelled rows and columns and named axes, a colour
    /// bar named <paramref name="valueLabel"/>, optional texts in the cells and an optional fixed colour range; NaN cells are grey.
    /// </summary>
    /// <exception cref="ArgumentException">Labels or texts that do not match the values' shape.</exception>
    public static Plot HeatMap(string title, double[,] values, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels,
        string rowAxisLabel, string columnAxisLabel, string valueLabel,
        string?[,]? cellTexts = null, ScottPlot.Range? range = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(rowLabels);
        ArgumentNullException.ThrowIfNull(columnLabels);
        int rows = values.GetLength(0), columns = values.GetLength(1);
        if (rowLabels.Count != rows || columnLabels.Count != columns)
            throw new ArgumentException($"{rows} x {columns} values need as many row and column labels, not {rowLabels.Count} and {columnLabels.Count}.", nameof(values));
        if (cellTexts is not null && (cellTexts.GetLength(0) != rows || cellTexts.GetLength(1) != columns))
            throw new ArgumentException($"The cell texts are {cellTexts.GetLength(0)} x {cellTexts.GetLength(1)}; the values {rows} x {columns}.", nameof(cellTexts));

        var plot = new Plot();
        plot.Title(title);
        plot.YLabel(rowAxisLabel);
        plot.XLabel(columnAxisLabel);
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.NaNCellColor = Colors.LightGray;
        if (range is { } fixedRange) heatmap.ManualRange = fixedRange;
        plot.Add.ColorBar(heatmap).Label = valueLabel;
        // Cells are centred on whole coordinates: column c at x = c, row r at y = rows - 1 - r (row 0 on top).
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, columns).Select(column => (double)column).ToArray(), [.. columnLabels]);
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rows).Select(row => (double)(rows - 1 - row)).ToArray(), [.. rowLabels]);
        if (cellTexts is not null)
        {
            for (var row = 0; row < rows; row++)
            {
                for (var column = 0; column < columns; column++)
                {
                    if (cellTexts[row, column] is not { } text) continue;
                    var label = plot.Add.Text(text, column, rows - 1 - row);
                    label.LabelAlignment = Alignment.MiddleCenter;
                    label.LabelFontColor = Colors.White;
                    label.LabelBold = true;
                }
            }
        }

        return plot;
    }

    /// <summary>
    /// Saves the chart at <paramref name="width"/> x <paramref name="height"/> pixels to <paramref name="basePath"/> plus
    /// <c>.svg</c> and plus <c>.png</c> (directory created); returns the two paths.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A width or height below 1.</exception>
    public static IReadOnlyList<string> Save(Plot plot, string basePath, int width = 900, int height = 550)
    {
        ArgumentNullException.ThrowIfNull(plot);
        ArgumentException.ThrowIfNullOrWhiteSpace(basePath);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var directory = Path.GetDirectoryName(Path.GetFullPath(basePath));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        var svg = basePath + ".svg";
        var png = basePath + ".png";
        plot.SaveSvg(svg, width, height);
        plot.SavePng(png, width, height);
        return [svg, png];
    }
}
