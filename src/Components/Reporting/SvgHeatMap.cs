using System.Globalization;
using System.Text;

namespace Pipelines.Components.Reporting;

/// <summary>A grid of coloured cells with row and column labels and a colour legend, as a standalone SVG document.</summary>
/// <remarks>
/// Made for phase diagrams (e.g. final loss over learning rate × sparsity). Row 0 is drawn at the top. Colours run
/// from <see cref="HeatMapOptions.Minimum"/> to <see cref="HeatMapOptions.Maximum"/> (by default the smallest and
/// largest finite values), linearly or logarithmically; cells without a finite value (NaN, e.g. a diverged run,
/// or ±∞) are grey and the legend says so. Cells carry a <c>&lt;title&gt;</c> tooltip with their value. All
/// numbers are written with the invariant culture.
/// </remarks>
public sealed class SvgHeatMap
{
    private const double FontSize = 12;
    private const double LegendBarWidth = 16;

    private readonly double[,] values;
    private readonly string[] rowLabels;
    private readonly string[] columnLabels;
    private readonly string?[,]? annotations;
    private readonly double low;
    private readonly double high;

    /// <summary>Creates a heat map of <paramref name="values"/>[row, column].</summary>
    /// <param name="values">At least one row and one column.</param>
    /// <param name="rowLabels">One label per row.</param>
    /// <param name="columnLabels">One label per column.</param>
    /// <param name="options">Titles and colours (defaults if null).</param>
    /// <param name="annotations">Optional text per cell (null entries print nothing); replaces <see cref="HeatMapOptions.ShowValues"/>.</param>
    /// <exception cref="ArgumentException">The grid is empty, label or annotation counts do not match it, or the colour range is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">With a logarithmic scale, a finite value or the given minimum is zero or negative.</exception>
    public SvgHeatMap(double[,] values, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, HeatMapOptions? options = null, string?[,]? annotations = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(rowLabels);
        ArgumentNullException.ThrowIfNull(columnLabels);
        Options = options ?? new HeatMapOptions();
        var (rows, columns) = (values.GetLength(0), values.GetLength(1));
        if (rows == 0 || columns == 0) throw new ArgumentException($"The grid is {rows} × {columns}; it needs at least one row and one column.", nameof(values));
        if (rowLabels.Count != rows) throw new ArgumentException($"There are {rowLabels.Count} row labels for {rows} rows.", nameof(rowLabels));
        if (columnLabels.Count != columns) throw new ArgumentException($"There are {columnLabels.Count} column labels for {columns} columns.", nameof(columnLabels));
        if (annotations is not null && (annotations.GetLength(0) != rows || annotations.GetLength(1) != columns))
            throw new ArgumentException($"The annotations are {annotations.GetLength(0)} × {annotations.GetLength(1)}; the grid is {rows} × {columns}.", nameof(annotations));

        this.values = (double[,])values.Clone();
        this.rowLabels = rowLabels.Select(label => label ?? "").ToArray();
        this.columnLabels = columnLabels.Select(label => label ?? "").ToArray();
        this.annotations = (string?[,]?)annotations?.Clone();
        (low, high) = ColorRange();
    }

    /// <summary>Titles, colours and cell size.</summary>
    public HeatMapOptions Options { get; }

    /// <summary>The heat map as an SVG document.</summary>
    public string ToSvg()
    {
        var (rows, columns) = (values.GetLength(0), values.GetLength(1));
        var (cellWidth, cellHeight) = ((double)Options.CellWidth, (double)Options.CellHeight);
        var rowLabelWidth = rowLabels.Max(label => SvgWriter.EstimateWidth(label, FontSize - 1)) + 10;
        var widestColumnLabel = columnLabels.Max(label => SvgWriter.EstimateWidth(label, FontSize - 1));
        var rotateColumnLabels = widestColumnLabel > cellWidth - 4;
        var columnLabelHeight = rotateColumnLabels ? widestColumnLabel * 0.71 + 18 : 20;

        var gridLeft = (Options.RowAxisLabel.Length > 0 ? 32 : 10) + rowLabelWidth;
        var gridTop = Options.Title.Length > 0 ? 44.0 : 16.0;
        var (gridWidth, gridHeight) = (columns * cellWidth, rows * cellHeight);
        var legendTicks = LegendTicks();
        var legendLabelWidth = legendTicks.Max(tick => SvgWriter.EstimateWidth(FormatTick(tick), FontSize - 1));
        var legendWidth = 24 + LegendBarWidth + 6 + Math.Max(legendLabelWidth, SvgWriter.EstimateWidth("no value", FontSize - 1) - 20) + (Options.ValueLabel.Length > 0 ? 26 : 8);
        var barHeight = Math.Max(gridHeight, 140);
        var hasMissing = values.Cast<double>().Any(value => !double.IsFinite(value));

        var width = Math.Max(gridLeft + gridWidth + legendWidth, SvgWriter.EstimateWidth(Options.Title, 16) + 20);
        var height = gridTop + Math.Max(gridHeight + columnLabelHeight + (Options.ColumnAxisLabel.Length > 0 ? 30 : 8), barHeight + (hasMissing ? 40 : 12));

        var svg = new SvgWriter(width, height);
        if (Options.Title.Length > 0) svg.Text(width / 2, 26, Options.Title, "title", 16, bold: true);

        for (var row = 0; row < rows; row++)
        {
            for (var column = 0; column < columns; column++)
                DrawCell(svg, row, column, gridLeft + column * cellWidth, gridTop + row * cellHeight, cellWidth, cellHeight);
            svg.Text(gridLeft - 6, gridTop + (row + 0.5) * cellHeight + 4, rowLabels[row], "row-label", FontSize - 1, anchor: "end");
        }

        for (var column = 0; column < columns; column++)
        {
            var x = gridLeft + (column + 0.5) * cellWidth;
            if (rotateColumnLabels) svg.Text(x + 4, gridTop + gridHeight + 12, columnLabels[column], "column-label", FontSize - 1, anchor: "end", rotation: -45);
            else svg.Text(x, gridTop + gridHeight + 16, columnLabels[column], "column-label", FontSize - 1);
        }

        svg.Rectangle(gridLeft, gridTop, gridWidth, gridHeight, "none", "grid-frame", "#444444");
        if (Options.RowAxisLabel.Length > 0) svg.Text(16, gridTop + gridHeight / 2, Options.RowAxisLabel, "axis-label", 13, rotation: -90);
        if (Options.ColumnAxisLabel.Length > 0) svg.Text(gridLeft + gridWidth / 2, gridTop + gridHeight + columnLabelHeight + 16, Options.ColumnAxisLabel, "axis-label", 13);

        DrawLegend(svg, gridLeft + gridWidth + 24, gridTop, barHeight, legendTicks, hasMissing);
        return svg.ToString();
    }

    /// <summary>Writes <see cref="ToSvg"/> to a UTF-8 file (replaced if it exists).</summary>
    public void WriteTo(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        File.WriteAllText(path, ToSvg(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    private (double Low, double High) ColorRange()
    {
        var finite = values.Cast<double>().Where(double.IsFinite).ToArray();
        if (Options.ValueScale == AxisScale.Logarithmic)
        {
            for (var row = 0; row < values.GetLength(0); row++)
            {
                for (var column = 0; column < values.GetLength(1); column++)
                {
                    var value = values[row, column];
                    if (double.IsFinite(value) && value <= 0)
                        throw new ArgumentOutOfRangeException(nameof(values), value, $"values[{row}, {column}] = {value} cannot be shown on a logarithmic colour scale (values must be positive).");
                }
            }

            if (Options.Minimum is <= 0)
                throw new ArgumentOutOfRangeException(nameof(Options.Minimum), Options.Minimum, "A logarithmic colour scale needs a positive minimum.");
        }

        var fallback = Options.ValueScale == AxisScale.Logarithmic ? (1.0, 10.0) : (0.0, 1.0);
        var rangeLow = Options.Minimum ?? (finite.Length > 0 ? finite.Min() : Math.Min(fallback.Item1, Options.Maximum ?? fallback.Item1));
        var rangeHigh = Options.Maximum ?? (finite.Length > 0 ? finite.Max() : Math.Max(fallback.Item2, rangeLow));
        if (rangeLow > rangeHigh)
            throw new ArgumentException($"The colour range [{rangeLow}, {rangeHigh}] is empty: the minimum exceeds the maximum.", nameof(Options));
        return (rangeLow, rangeHigh);
    }

    private double Fraction(double value)
    {
        if (high == low) return 0.5;
        var fraction = Options.ValueScale == AxisScale.Logarithmic
            ? (Math.Log10(value) - Math.Log10(low)) / (Math.Log10(high) - Math.Log10(low))
            : (value - low) / (high - low);
        return Math.Clamp(fraction, 0, 1);
    }

    private string FormatValue(double value) => value.ToString(Options.ValueFormat, CultureInfo.InvariantCulture);

    private string FormatTick(double value) => high == low ? FormatValue(value) : AxisTicks.Format(value);

    /// <summary>Nice values inside the colour range, or the range's ends when fewer than two fall inside.</summary>
    private double[] LegendTicks()
    {
        if (high == low) return [low];
        var tolerance = (high - low) * 1e-9;
        var inside = AxisTicks.Create(Options.ValueScale, low, high, targetTickCount: 5).Ticks
            .Where(tick => tick >= low - tolerance && tick <= high + tolerance)
            .ToArray();
        return inside.Length >= 2 ? inside : [low, high];
    }

    private void DrawCell(SvgWriter svg, int row, int column, double x, double y, double width, double height)
    {
        var value = values[row, column];
        var finite = double.IsFinite(value);
        var fraction = finite ? Fraction(value) : 0;
        var fill = finite ? SvgColors.Interpolate(Options.ColorMap, fraction) : SvgColors.Missing;
        var tooltip = SvgWriter.Escape($"{rowLabels[row]}, {columnLabels[column]}: {FormatValue(value)}");
        svg.Raw($"<rect class=\"cell\" x=\"{SvgWriter.Number(x)}\" y=\"{SvgWriter.Number(y)}\" width=\"{SvgWriter.Number(width)}\" height=\"{SvgWriter.Number(height)}\" fill=\"{fill}\" stroke=\"#ffffff\" stroke-width=\"0.5\"><title>{tooltip}</title></rect>");

        var text = annotations is not null ? annotations[row, column] : Options.ShowValues ? FormatValue(value) : null;
        if (string.IsNullOrEmpty(text)) return;
        var dark = finite && SvgColors.Luminance(Options.ColorMap, fraction) < 0.5;
        var fontSize = Math.Min(FontSize, height * 0.45);
        svg.Text(x + width / 2, y + height / 2 + fontSize * 0.35, text, "cell-value", fontSize, fill: dark ? "#ffffff" : "#111111");
    }

    private void DrawLegend(SvgWriter svg, double left, double top, double barHeight, double[] ticks, bool hasMissing)
    {
        var stops = new StringBuilder("<defs><linearGradient id=\"heatmap-scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">");
        for (var index = 0; index <= 10; index++)
            stops.Append($"<stop offset=\"{SvgWriter.Number(index / 10.0)}\" stop-color=\"{SvgColors.Interpolate(Options.ColorMap, index / 10.0)}\"/>");
        svg.Raw(stops.Append("</linearGradient></defs>").ToString());
        svg.Raw($"<rect class=\"legend-bar\" x=\"{SvgWriter.Number(left)}\" y=\"{SvgWriter.Number(top)}\" width=\"{SvgWriter.Number(LegendBarWidth)}\" height=\"{SvgWriter.Number(barHeight)}\" fill=\"url(#heatmap-scale)\" stroke=\"#444444\"/>");

        foreach (var tick in ticks)
        {
            var y = top + (1 - (high == low ? 0.5 : Fraction(tick))) * barHeight;
            svg.Line(left + LegendBarWidth, y, left + LegendBarWidth + 4, y, "#444444", 1, "tick");
            svg.Text(left + LegendBarWidth + 7, y + 4, FormatTick(tick), "legend-tick", FontSize - 1, anchor: "start");
        }

        if (Options.ValueLabel.Length > 0)
        {
            var labelX = left + LegendBarWidth + 10 + ticks.Max(tick => SvgWriter.EstimateWidth(FormatTick(tick), FontSize - 1)) + 10;
            svg.Text(labelX, top + barHeight / 2, Options.ValueLabel, "legend-title", FontSize, rotation: -90);
        }

        if (hasMissing)
        {
            svg.Rectangle(left, top + barHeight + 12, LegendBarWidth, 12, SvgColors.Missing, "legend-missing", "#444444");
            svg.Text(left + LegendBarWidth + 7, top + barHeight + 22, "no value", "legend-missing-label", FontSize - 1, anchor: "start");
        }
    }
}
