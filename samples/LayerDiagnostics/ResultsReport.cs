using System.Globalization;
using Pipelines.Reporting;
using ScottPlot;
using Spectre.Console;

namespace LayerDiagnostics;

/// <summary>The comparison's outputs: every run as CSV, a summary table (mean and sd over seeds) and a bar chart.</summary>
internal static class ResultsReport
{
    /// <summary>Mean and population-free sample sd over the seeds of one source and method.</summary>
    internal sealed record Summary(string Source, string Method, int Runs, double Accuracy, double AccuracySd, double MacroF1, double MacroF1Sd, long TrainableParameters, double Seconds);

    public static IReadOnlyList<Summary> Summarize(IReadOnlyList<RunResult> runs) =>
        runs.GroupBy(run => (run.Source, run.Method)).Select(group => new Summary(group.Key.Source, group.Key.Method, group.Count(),
            group.Average(run => run.Accuracy), Deviation(group.Select(run => run.Accuracy)), group.Average(run => run.MacroF1), Deviation(group.Select(run => run.MacroF1)),
            (long)group.Average(run => run.TrainableParameters), group.Average(run => run.Seconds))).ToArray();

    /// <summary>Writes runs.csv, summary.csv and comparison.svg/.png into <paramref name="output"/> and prints the summary.</summary>
    public static void Write(string output, IReadOnlyList<RunResult> runs)
    {
        MetricsCsv.Write(Path.Combine(output, "runs.csv"), runs);
        var summary = Summarize(runs);
        MetricsCsv.Write(Path.Combine(output, "summary.csv"), summary);
        var table = new Table().AddColumns("source", "method", "runs", "accuracy", "macro-F1", "trainable parameters", "seconds");
        foreach (var row in summary)
            table.AddRow(row.Source, row.Method, row.Runs.ToString(CultureInfo.InvariantCulture),
                string.Create(CultureInfo.InvariantCulture, $"{row.Accuracy:P2} ± {row.AccuracySd:P2}"),
                string.Create(CultureInfo.InvariantCulture, $"{row.MacroF1:F4} ± {row.MacroF1Sd:F4}"),
                row.TrainableParameters.ToString("N0", CultureInfo.InvariantCulture), row.Seconds.ToString("F1", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        WriteFigure(Path.Combine(output, "comparison"), summary);
    }

    private static void WriteFigure(string basePath, IReadOnlyList<Summary> summary)
    {
        var plot = new Plot();
        var methods = summary.Select(row => row.Method).Distinct().ToArray();
        var sources = summary.Select(row => row.Source).Distinct().ToArray();
        var palette = new ScottPlot.Palettes.Category10();
        for (var methodIndex = 0; methodIndex < methods.Length; methodIndex++)
        {
            var bars = new List<Bar>();
            for (var sourceIndex = 0; sourceIndex < sources.Length; sourceIndex++)
            {
                var row = summary.Single(candidate => candidate.Source == sources[sourceIndex] && candidate.Method == methods[methodIndex]);
                bars.Add(new Bar
                {
                    Position = sourceIndex * (methods.Length + 1) + methodIndex, Value = row.Accuracy, Error = row.AccuracySd,
                    FillColor = palette.GetColor(methodIndex),
                });
            }

            var series = plot.Add.Bars(bars);
            series.LegendText = methods[methodIndex];
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            sources.Select((_, index) => index * (methods.Length + 1) + (methods.Length - 1) / 2.0).ToArray(), sources);
        var lowest = summary.Min(row => row.Accuracy - row.AccuracySd);
        plot.Axes.SetLimitsY(Math.Max(0, lowest - 0.05), 1);
        plot.Title("Spam accuracy by source state and method (mean ± sd over seeds)");
        plot.YLabel("validation accuracy");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SaveSvg(basePath + ".svg", 900, 550);
        plot.SavePng(basePath + ".png", 900, 550);
    }

    private static double Deviation(IEnumerable<double> values)
    {
        var list = values.ToArray();
        if (list.Length < 2) return 0;
        var mean = list.Average();
        return Math.Sqrt(list.Sum(value => (value - mean) * (value - mean)) / (list.Length - 1));
    }
}
