using System.Globalization;
using Pipelines.Reporting;
using ScottPlot;
using Spectre.Console;

namespace PrivateFineTune;

/// <summary>One row of <c>summary.csv</c>: a method at a budget, over its seeds.</summary>
internal sealed record SummaryRow(string Method, double TargetEpsilon, int Runs, double MeanEpsilon, double MeanAccuracy, double AccuracyStandardDeviation,
    double MeanLogLoss, double MeanMembershipAuc, double MembershipAucStandardDeviation, double MeanSeconds, string Adaptation, bool Pretrained);

/// <summary>The console table, the CSV files and the chart (SVG and PNG).</summary>
internal static class Reports
{
    public static IReadOnlyList<SummaryRow> Summarise(IReadOnlyList<RunResult> results) =>
    [
        .. results.GroupBy(result => (result.Adaptation, result.Pretrained, result.Method, result.TargetEpsilon)).Select(group =>
        {
            var runs = group.ToArray();
            return new SummaryRow(group.Key.Method, group.Key.TargetEpsilon, runs.Length, runs.Average(run => run.Epsilon), runs.Average(run => run.Accuracy),
                StandardDeviation(runs.Select(run => run.Accuracy)), runs.Average(run => run.LogLoss), runs.Average(run => run.MembershipAuc),
                StandardDeviation(runs.Select(run => run.MembershipAuc)), runs.Average(run => run.TrainingSeconds), group.Key.Adaptation, group.Key.Pretrained);
        }),
    ];

    public static void Write(string folder, IReadOnlyList<RunResult> results, IReadOnlyList<SummaryRow> summary)
    {
        Directory.CreateDirectory(folder);
        MetricsCsv.Write(Path.Combine(folder, "results.csv"), results);
        MetricsCsv.Write(Path.Combine(folder, "summary.csv"), summary);
        foreach (var (name, mean, spread, title) in new (string, Func<SummaryRow, double>, Func<SummaryRow, double>, string)[]
        {
            ("accuracy", row => row.MeanAccuracy, row => row.AccuracyStandardDeviation, "Test accuracy (mean ± sd over seeds)"),
            ("membership", row => row.MeanMembershipAuc, row => row.MembershipAucStandardDeviation, "Membership-inference AUC, loss threshold (0.5 = no leak)"),
        })
        {
            var plot = new Plot();
            Panel(plot, summary, mean, spread, title);
            plot.SaveSvg(Path.Combine(folder, name + ".svg"), 800, 500);
            plot.SavePng(Path.Combine(folder, name + ".png"), 800, 500);
        }
    }

    public static void Print(IReadOnlyList<SummaryRow> summary)
    {
        // The method names stay whole (not wrapped) however narrow the console.
        var table = new Table().AddColumns(new TableColumn("adaptation").NoWrap(), new TableColumn("method").NoWrap()).AddColumns("target epsilon", "epsilon spent", "runs", "test accuracy", "log-loss", "membership AUC", "training s");
        foreach (var row in summary)
            table.AddRow(row.Adaptation + (row.Pretrained ? "*" : ""), row.Method, double.IsNaN(row.TargetEpsilon) ? "-" : Text($"{row.TargetEpsilon:G3}"), double.IsInfinity(row.MeanEpsilon) ? "inf" : Text($"{row.MeanEpsilon:F3}"),
                Text($"{row.Runs}"), Text($"{row.MeanAccuracy:P2} ± {row.AccuracyStandardDeviation:P2}"), Text($"{row.MeanLogLoss:F3}"),
                Text($"{row.MeanMembershipAuc:F3} ± {row.MembershipAucStandardDeviation:F3}"), Text($"{row.MeanSeconds:F0}"));
        AnsiConsole.Write(table);
        if (summary.Any(row => row.Pretrained)) AnsiConsole.MarkupLine("* from the body pre-trained on Brown.");
    }

    private static void Panel(Plot plot, IReadOnlyList<SummaryRow> summary, Func<SummaryRow, double> mean, Func<SummaryRow, double> spread, string title)
    {
        plot.Title(title);
        plot.XLabel("target epsilon (delta 1e-5 in the full run)");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. summary.Where(row => !double.IsNaN(row.TargetEpsilon)).Select(row => row.TargetEpsilon).Distinct().Select(epsilon => new Tick(Math.Log(epsilon), Text($"{epsilon:G3}")))]);
        foreach (var method in summary.Where(row => !double.IsNaN(row.TargetEpsilon)).GroupBy(row => $"{row.Method} {row.Adaptation}"))
        {
            var rows = method.OrderBy(row => row.TargetEpsilon).ToArray();
            double[] x = [.. rows.Select(row => Math.Log(row.TargetEpsilon))], y = [.. rows.Select(mean)];
            var line = plot.Add.Scatter(x, y);
            line.LegendText = method.Key;
            var bars = plot.Add.ErrorBar(x, y, [.. rows.Select(spread)]);
            bars.Color = line.Color;
        }

        foreach (var row in summary.Where(row => double.IsNaN(row.TargetEpsilon)))
        {
            var reference = plot.Add.HorizontalLine(mean(row));
            reference.LegendText = $"{row.Method} {row.Adaptation} (epsilon = inf)";
            reference.LinePattern = LinePattern.Dashed;
        }

        plot.ShowLegend(Edge.Right);
    }

    private static double StandardDeviation(IEnumerable<double> values)
    {
        var array = values.ToArray();
        if (array.Length < 2) return 0;
        var mean = array.Average();
        return Math.Sqrt(array.Sum(value => (value - mean) * (value - mean)) / (array.Length - 1));
    }

    private static string Text(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
