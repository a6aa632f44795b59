using System.Globalization;
using System.Text;
using Pipelines.Components.Training;
using ScottPlot;

namespace Pipelines.Experiments;

/// <summary>CSV tables, charts (ScottPlot) and a markdown table of an <see cref="OptimizerComparisonResult"/>.</summary>
public static class OptimizerComparisonReport
{
    /// <summary>Every step of every run: <c>Optimizer,PeakLearningRate,Step,LearningRate,TrainingLoss,ValidationLoss</c> (validation empty between evaluations).</summary>
    public static string CurvesCsv(OptimizerComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return ExperimentCsv.Of(result.Runs.SelectMany(run => run.History.Select(row => new
        {
            Optimizer = run.Name, run.PeakLearningRate, row.Step, row.LearningRate, row.TrainingLoss, row.ValidationLoss,
        })));
    }

    /// <summary>One row per run: <c>Optimizer,PeakLearningRate,FinalValidationLoss,DivergedAtStep,IsBest,ElapsedSeconds</c>.</summary>
    public static string SummaryCsv(OptimizerComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return ExperimentCsv.Of(result.Runs.Select(run => new
        {
            Optimizer = run.Name, run.PeakLearningRate, run.FinalValidationLoss, run.DivergedAtStep, IsBest = result.Best.Contains(run),
            ElapsedSeconds = Math.Round(run.Elapsed.TotalSeconds, 1),
        }));
    }

    /// <summary>
    /// A markdown table, best first: optimizer, best peak rate, final validation loss, its gap to the winner, and
    /// the loss at every rate of the grid (the best in bold; "diverged" for runs that did).
    /// </summary>
    public static string MarkdownTable(OptimizerComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var winner = result.Winner.FinalValidationLoss;
        var text = new StringBuilder();
        text.Append("| Optimizer | Best peak LR | Final validation loss | vs best | Loss at each peak LR of the grid |\n");
        text.Append("|---|---|---|---|---|\n");
        foreach (var best in result.Best.OrderBy(run => run.FinalValidationLoss))
        {
            var grid = string.Join(", ", result.Runs.Where(run => run.Name == best.Name).Select(run =>
            {
                var loss = run.Diverged ? "diverged" : Invariant($"{run.FinalValidationLoss:F4}");
                var cell = Invariant($"{Rate(run.PeakLearningRate)}: {loss}");
                return ReferenceEquals(run, best) ? $"**{cell}**" : cell;
            }));
            var edge = result.IsBestAtGridEdge(best.Name) ? " (grid edge)" : "";
            var gap = best.FinalValidationLoss - winner;
            var gapText = gap == 0 ? "-" : double.IsFinite(gap) ? Invariant($"+{gap:F4}") : "";
            text.Append(Invariant($"| {best.Name} | {Rate(best.PeakLearningRate)}{edge} | {Loss(best.FinalValidationLoss)} | {gapText} | {grid} |\n"));
        }

        return text.ToString();
    }

    /// <summary>The validation loss over steps of each candidate's best run.</summary>
    public static Plot ValidationChart(OptimizerComparisonResult result, string title = "Validation loss at each optimizer's best peak LR")
    {
        ArgumentNullException.ThrowIfNull(result);
        var chart = ExperimentChart.Create(title, "step", "validation loss (nats/token)");
        foreach (var run in result.Best.Where(run => !run.Diverged))
        {
            var (steps, losses) = PretrainingRun.ValidationCurve(run.History);
            ExperimentChart.AddLine(chart, Invariant($"{run.Name} (lr {Rate(run.PeakLearningRate)})"), steps.Select(step => (double)step).ToArray(), losses);
        }

        return chart;
    }

    /// <summary>The training loss of each candidate's best run, averaged over windows of <paramref name="window"/> steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is below 1.</exception>
    public static Plot TrainingChart(OptimizerComparisonResult result, int window = 25, string title = "Training loss (window mean) at each optimizer's best peak LR")
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        var chart = ExperimentChart.Create(title, "step", "training loss (nats/token)");
        foreach (var run in result.Best.Where(run => !run.Diverged))
        {
            var (steps, losses) = WindowMeans(run.History, window);
            ExperimentChart.AddLine(chart, Invariant($"{run.Name} (lr {Rate(run.PeakLearningRate)})"), steps, losses);
        }

        return chart;
    }

    /// <summary>Means of the training loss over consecutive windows, placed at each window's last step.</summary>
    internal static (double[] Steps, double[] Losses) WindowMeans(IReadOnlyList<StepMetrics> history, int window)
    {
        var steps = new List<double>();
        var losses = new List<double>();
        for (var start = 0; start + window <= history.Count; start += window)
        {
            double sum = 0;
            for (var index = start; index < start + window; index++) sum += history[index].TrainingLoss;
            steps.Add(history[start + window - 1].Step);
            losses.Add(sum / window);
        }

        return ([.. steps], [.. losses]);
    }

    /// <summary>A learning rate as short text: <c>3e-4</c>, <c>1e-3</c>, <c>2.5e-3</c>.</summary>
    internal static string Rate(double rate)
    {
        var exponent = (int)Math.Floor(Math.Log10(rate));
        var mantissa = Math.Round(rate / Math.Pow(10, exponent), 3);
        if (mantissa >= 10)
        {
            mantissa /= 10;
            exponent++;
        }

        return Invariant($"{mantissa:0.###}e{exponent}");
    }

    private static string Loss(double loss) => double.IsFinite(loss) ? Invariant($"{loss:F4}") : "diverged";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
