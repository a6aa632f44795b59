using Pipelines.Components.Reporting;
using Pipelines.Components.Training;
using Pipelines.Reporting;

namespace QuickStart;

/// <summary>Writes a run's history as <c>metrics.csv</c> and its loss curves as <c>loss.svg</c>.</summary>
internal static class RunReport
{
    public static (string Csv, string Svg) Write(string directory, IReadOnlyList<StepMetrics> history)
    {
        Directory.CreateDirectory(directory);
        var csv = Path.Combine(directory, "metrics.csv");
        MetricsCsv.Write(csv, history);

        var validation = history.Where(record => record.ValidationLoss.HasValue).ToList();
        var chart = new SvgLineChart(new LineChartOptions { Title = "QuickStart: GPT on the Brown corpus", XAxisLabel = "step", YAxisLabel = "loss (nats per token)" })
            .AddSeries("training", history.Select(record => ((double)record.Step, record.TrainingLoss)))
            .AddSeries("validation", validation.Select(record => ((double)record.Step, record.ValidationLoss!.Value)));
        var svg = Path.Combine(directory, "loss.svg");
        chart.WriteTo(svg);
        return (csv, svg);
    }
}
