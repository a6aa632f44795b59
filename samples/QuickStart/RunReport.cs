using Pipelines.Components.Training;
using Pipelines.Reporting;
using ScottPlot;

namespace QuickStart;

/// <summary>Writes a run's history as <c>metrics.csv</c> and its loss curves as <c>loss.svg</c> and <c>loss.png</c>.</summary>
internal static class RunReport
{
    public static IReadOnlyList<string> Write(string directory, IReadOnlyList<StepMetrics> history)
    {
        Directory.CreateDirectory(directory);
        var csv = Path.Combine(directory, "metrics.csv");
        MetricsCsv.Write(csv, history);

        var plot = new Plot();
        var training = plot.Add.ScatterLine(history.Select(record => (double)record.Step).ToArray(), history.Select(record => record.TrainingLoss).ToArray());
        training.LegendText = "training";
        var validation = history.Where(record => record.ValidationLoss.HasValue).ToArray();
        var validationLine = plot.Add.Scatter(validation.Select(record => (double)record.Step).ToArray(), validation.Select(record => record.ValidationLoss!.Value).ToArray());
        validationLine.LegendText = "validation";
        plot.Title("QuickStart: GPT on the Brown corpus");
        plot.XLabel("step");
        plot.YLabel("loss (nats per token)");
        plot.ShowLegend(Alignment.UpperRight);
        var svg = Path.Combine(directory, "loss.svg");
        var png = Path.Combine(directory, "loss.png");
        plot.SaveSvg(svg, 800, 500);
        plot.SavePng(png, 800, 500);
        return [csv, svg, png];
    }
}
