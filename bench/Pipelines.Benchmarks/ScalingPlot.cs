using System.Globalization;
using ScottPlot;

namespace Pipelines.Benchmarks;

/// <summary>
/// The scaling sweep's table and figures (issue 15): reads the raw runs <c>bench/scaling.sh</c> wrote
/// (<c>sweep,peer,dim,ctx,repeat,tokens_per_s,step_ms,peak_rss_mb</c>), writes the median of each point as
/// <c>scaling.csv</c> and draws tokens/s against width and against context, one line per peer, as SVG and PNG.
/// </summary>
internal static class ScalingPlot
{
    public static void Run(string[] arguments)
    {
        var input = StringOption(arguments, "--csv") ?? "bench/results/scaling-raw.csv";
        var output = StringOption(arguments, "--out") ?? Path.GetDirectoryName(Path.GetFullPath(input))!;
        var title = StringOption(arguments, "--title") ?? "";
        var runs = File.ReadLines(input).Skip(1).Where(line => line.Length > 0).Select(Parse).ToArray();
        var points = runs.GroupBy(run => (run.Sweep, run.Peer, run.Width, run.Context))
            .Select(group => new Point(group.Key.Sweep, group.Key.Peer, group.Key.Width, group.Key.Context, group.Count(),
                Median(group.Select(run => run.TokensPerSecond)), Median(group.Select(run => run.StepMilliseconds)), group.Max(run => run.PeakMegabytes)))
            .OrderBy(point => point.Sweep, StringComparer.Ordinal).ThenBy(point => point.Peer, StringComparer.Ordinal).ThenBy(point => point.Width).ThenBy(point => point.Context)
            .ToArray();

        Directory.CreateDirectory(output);
        var table = Path.Combine(output, "scaling.csv");
        File.WriteAllLines(table, ["sweep,peer,dim,ctx,runs,median_tokens_per_s,median_step_ms,peak_rss_mb,ratio_to_plain_torchsharp",
            .. points.Select(point => string.Create(CultureInfo.InvariantCulture,
                $"{point.Sweep},{point.Peer},{point.Width},{point.Context},{point.Runs},{point.TokensPerSecond:F0},{point.StepMilliseconds:F1},{point.PeakMegabytes:F0},{Ratio(point, points):F3}"))]);
        Console.WriteLine($"wrote {table}");
        Draw(points, "width", point => point.Width, "width (channels), context 128", Path.Combine(output, "scaling-width"), title);
        Draw(points, "context", point => point.Context, "context (tokens), width 256", Path.Combine(output, "scaling-context"), title);
    }

    private static void Draw(Point[] points, string sweep, Func<Point, int> x, string xLabel, string basePath, string title)
    {
        var plot = new Plot();
        plot.Title($"GPT training throughput against {sweep} (4 layers, batch 8){(title.Length > 0 ? "\n" + title : "")}");
        plot.Axes.Title.Label.FontSize = 13;
        plot.XLabel(xLabel);
        plot.YLabel("tokens/s (median)");
        foreach (var peer in points.Where(point => point.Sweep == sweep).Select(point => point.Peer).Distinct())
        {
            var series = points.Where(point => point.Sweep == sweep && point.Peer == peer).OrderBy(x).ToArray();
            var line = plot.Add.Scatter(series.Select(point => (double)x(point)).ToArray(), series.Select(point => point.TokensPerSecond).ToArray());
            line.LegendText = peer;
        }

        var ticks = points.Where(point => point.Sweep == sweep).Select(x).Distinct().Order().ToArray();
        plot.Axes.Bottom.SetTicks(ticks.Select(value => (double)value).ToArray(), ticks.Select(value => value.ToString(CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.SetLimitsY(0, points.Where(point => point.Sweep == sweep).Max(point => point.TokensPerSecond) * 1.1);
        plot.ShowLegend(Alignment.UpperRight);
        // Ratios are easier to read from the CSV; the figure shows both peers' shape.
        plot.SaveSvg(basePath + ".svg", 900, 520);
        plot.SavePng(basePath + ".png", 900, 520);
        Console.WriteLine($"wrote {basePath}.svg, {basePath}.png");
    }

    private static double Ratio(Point point, Point[] points) =>
        points.FirstOrDefault(other => other.Sweep == point.Sweep && other.Peer == "plain-torchsharp" && other.Width == point.Width && other.Context == point.Context) is { } plain
            ? point.TokensPerSecond / plain.TokensPerSecond
            : double.NaN;

    private static RawRun Parse(string line)
    {
        var fields = line.Split(',');
        double Number(int index) => double.Parse(fields[index], CultureInfo.InvariantCulture);
        return new RawRun(fields[0], fields[1], (int)Number(2), (int)Number(3), Number(5), Number(6), Number(7));
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string? StringOption(string[] arguments, string name)
    {
        var index = Array.IndexOf(arguments, name);
        return index >= 0 && index + 1 < arguments.Length ? arguments[index + 1] : null;
    }

    private sealed record RawRun(string Sweep, string Peer, int Width, int Context, double TokensPerSecond, double StepMilliseconds, double PeakMegabytes);

    private sealed record Point(string Sweep, string Peer, int Width, int Context, int Runs, double TokensPerSecond, double StepMilliseconds, double PeakMegabytes);
}
