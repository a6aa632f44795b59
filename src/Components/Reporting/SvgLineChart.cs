using System.Text;

namespace Pipelines.Components.Reporting;

/// <summary>A line chart of named series, written as a standalone SVG document (no dependencies).</summary>
/// <remarks>
/// Axes are widened to round bounds with "nice" ticks (1, 2 or 5 times a power of ten; decades, or 1-2-5 within
/// decades, on a log axis). Points with a NaN or infinite coordinate are skipped and break the line there; a
/// point with no neighbour is drawn as a dot. Series get distinct colours (Tableau 10, then the same colours
/// dashed) and a legend entry each. All numbers are written with the invariant culture.
/// <example><code>
/// var chart = new SvgLineChart(new LineChartOptions { Title = "Loss", XAxisLabel = "step", YScale = AxisScale.Logarithmic })
///     .AddSeries("train", steps, trainLoss)
///     .AddSeries("validation", steps, validationLoss);
/// chart.WriteTo("loss.svg");
/// </code></example>
/// </remarks>
public sealed class SvgLineChart
{
    private const double LeftMargin = 78;
    private const double TopMargin = 44;
    private const double BottomMargin = 58;
    private const double FontSize = 12;

    private readonly List<LineSeries> series = [];

    /// <summary>Creates an empty chart.</summary>
    public SvgLineChart(LineChartOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
    }

    /// <summary>Titles, scales and size.</summary>
    public LineChartOptions Options { get; }

    /// <summary>The series added so far, in legend order.</summary>
    public IReadOnlyList<LineSeries> Series => series;

    /// <summary>Adds a series; returns this chart.</summary>
    /// <exception cref="ArgumentException">The coordinate lists have different lengths.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A finite coordinate on a logarithmic axis is zero or negative.</exception>
    public SvgLineChart AddSeries(string name, IReadOnlyList<double> x, IReadOnlyList<double> y) => AddSeries(new LineSeries(name, x, y));

    /// <summary>Adds a series of (x, y) points; returns this chart.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A finite coordinate on a logarithmic axis is zero or negative.</exception>
    public SvgLineChart AddSeries(string name, IEnumerable<(double X, double Y)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var list = points.ToArray();
        return AddSeries(new LineSeries(name, list.Select(point => point.X).ToArray(), list.Select(point => point.Y).ToArray()));
    }

    /// <summary>Adds a series; returns this chart.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A finite coordinate on a logarithmic axis is zero or negative.</exception>
    public SvgLineChart AddSeries(LineSeries line)
    {
        ArgumentNullException.ThrowIfNull(line);
        CheckPositive(line, line.X, Options.XScale, "x");
        CheckPositive(line, line.Y, Options.YScale, "y");
        series.Add(line);
        return this;
    }

    /// <summary>The chart as an SVG document.</summary>
    public string ToSvg()
    {
        var legendWidth = series.Count == 0 ? 20 : Math.Clamp(series.Max(line => SvgWriter.EstimateWidth(line.Name, FontSize)) + 52, 90, Options.Width / 3.0);
        var plotLeft = LeftMargin;
        var plotTop = TopMargin;
        var plotWidth = Options.Width - LeftMargin - legendWidth;
        var plotHeight = Options.Height - TopMargin - BottomMargin;

        var xAxis = AxisFor(Options.XScale, series.SelectMany(line => FinitePoints(line).Select(point => point.X)));
        var yAxis = AxisFor(Options.YScale, series.SelectMany(line => FinitePoints(line).Select(point => point.Y)));
        double ToX(double value) => plotLeft + xAxis.Fraction(value) * plotWidth;
        double ToY(double value) => plotTop + (1 - yAxis.Fraction(value)) * plotHeight;

        var svg = new SvgWriter(Options.Width, Options.Height);
        if (Options.Title.Length > 0) svg.Text(Options.Width / 2.0, 26, Options.Title, "title", 16, bold: true);
        DrawGridAndTicks(svg, xAxis, yAxis, ToX, ToY, plotLeft, plotTop, plotWidth, plotHeight);
        svg.Rectangle(plotLeft, plotTop, plotWidth, plotHeight, "none", "plot-frame", "#444444");
        if (Options.XAxisLabel.Length > 0) svg.Text(plotLeft + plotWidth / 2, Options.Height - 14, Options.XAxisLabel, "axis-label", 13);
        if (Options.YAxisLabel.Length > 0) svg.Text(18, plotTop + plotHeight / 2, Options.YAxisLabel, "axis-label", 13, rotation: -90);

        for (var index = 0; index < series.Count; index++)
        {
            var (color, dash) = StyleOf(index);
            DrawSeries(svg, series[index], color, dash, ToX, ToY);
            var entryY = plotTop + 10 + index * 20;
            var entryX = plotLeft + plotWidth + 14;
            svg.Line(entryX, entryY, entryX + 26, entryY, color, 2.5, "legend-swatch", dash);
            svg.Text(entryX + 32, entryY + 4, series[index].Name, "legend-entry", FontSize, anchor: "start");
        }

        return svg.ToString();
    }

    /// <summary>Writes <see cref="ToSvg"/> to a UTF-8 file (replaced if it exists).</summary>
    public void WriteTo(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        File.WriteAllText(path, ToSvg(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    private static void CheckPositive(LineSeries line, IReadOnlyList<double> values, AxisScale scale, string axis)
    {
        if (scale != AxisScale.Logarithmic) return;
        for (var index = 0; index < values.Count; index++)
        {
            if (double.IsFinite(values[index]) && values[index] <= 0)
                throw new ArgumentOutOfRangeException(axis, values[index], $"Series '{line.Name}': {axis}[{index}] = {values[index]} cannot be shown on a logarithmic {axis} axis (values must be positive).");
        }
    }

    private static IEnumerable<(double X, double Y)> FinitePoints(LineSeries line) =>
        Enumerable.Range(0, line.X.Count)
            .Where(index => double.IsFinite(line.X[index]) && double.IsFinite(line.Y[index]))
            .Select(index => (line.X[index], line.Y[index]));

    private static AxisTicks AxisFor(AxisScale scale, IEnumerable<double> values)
    {
        var (low, high) = (double.PositiveInfinity, double.NegativeInfinity);
        foreach (var value in values)
        {
            low = Math.Min(low, value);
            high = Math.Max(high, value);
        }

        if (low > high) (low, high) = scale == AxisScale.Logarithmic ? (1.0, 10.0) : (0.0, 1.0);
        return AxisTicks.Create(scale, low, high);
    }

    private static (string Color, string Dash) StyleOf(int index) =>
        (SvgColors.Series[index % SvgColors.Series.Length], SvgColors.Dashes[index / SvgColors.Series.Length % SvgColors.Dashes.Length]);

    private static void DrawGridAndTicks(SvgWriter svg, AxisTicks xAxis, AxisTicks yAxis, Func<double, double> toX, Func<double, double> toY,
        double plotLeft, double plotTop, double plotWidth, double plotHeight)
    {
        foreach (var tick in xAxis.Ticks)
        {
            var x = toX(tick);
            svg.Line(x, plotTop, x, plotTop + plotHeight, "#e5e5e5", 1, "grid");
            svg.Line(x, plotTop + plotHeight, x, plotTop + plotHeight + 5, "#444444", 1, "tick");
            svg.Text(x, plotTop + plotHeight + 19, AxisTicks.Format(tick), "tick-label x-tick", FontSize - 1);
        }

        foreach (var tick in yAxis.Ticks)
        {
            var y = toY(tick);
            svg.Line(plotLeft, y, plotLeft + plotWidth, y, "#e5e5e5", 1, "grid");
            svg.Line(plotLeft - 5, y, plotLeft, y, "#444444", 1, "tick");
            svg.Text(plotLeft - 8, y + 4, AxisTicks.Format(tick), "tick-label y-tick", FontSize - 1, anchor: "end");
        }
    }

    private static void DrawSeries(SvgWriter svg, LineSeries line, string color, string dash, Func<double, double> toX, Func<double, double> toY)
    {
        var path = new StringBuilder();
        var runStart = -1;
        for (var index = 0; index <= line.X.Count; index++)
        {
            var finite = index < line.X.Count && double.IsFinite(line.X[index]) && double.IsFinite(line.Y[index]);
            if (finite)
            {
                if (runStart < 0) runStart = index;
                path.Append(index == runStart ? 'M' : 'L')
                    .Append(SvgWriter.Number(toX(line.X[index]))).Append(' ')
                    .Append(SvgWriter.Number(toY(line.Y[index]))).Append(' ');
                continue;
            }

            // A run of one point has no line to draw: show it as a dot.
            if (runStart >= 0 && index - runStart == 1) svg.Circle(toX(line.X[runStart]), toY(line.Y[runStart]), 2.5, color, "point");
            runStart = -1;
        }

        if (path.Length > 0) svg.Path(path.ToString().TrimEnd(), color, 1.8, "series", dash);
    }
}
