using Pipelines.Experiments;
using Pipelines.Components.Sparsity;
using Pipelines.Reporting;

namespace SparsePretraining;

/// <summary>One fitted law of the grid (a CSV row).</summary>
internal sealed record ScalingFitRow(ScalingHoldOut HoldOut, bool CountEmbeddings, ScalingParameterCount Count, int FittedRuns, int HeldOutRuns,
    double E, double A, double Alpha, double B, double Beta, double FitError, double HeldOutError);

/// <summary>One held-out prediction (a CSV row).</summary>
internal sealed record ScalingPredictionRow(ScalingHoldOut HoldOut, bool CountEmbeddings, ScalingParameterCount Count, string Run, double Actual, double Predicted);

/// <summary>One per-layer sparsity after a pruning step (a CSV row).</summary>
internal sealed record SnapshotRow(string Run, long Step, string Parameter, long NonZeroCount, double Sparsity);

/// <summary>Tables on the console, CSV and SVG files in the output folder.</summary>
internal static class Reports
{
    private const int SmoothingWindow = 25;

    public static void WriteComparison(string folder, IReadOnlyList<SparsePretrainingResult> results)
    {
        MetricsCsv.Write(Path.Combine(folder, "comparison.csv"), results.Select(result => result.Summary));
        MetricsCsv.Write(Path.Combine(folder, "curves.csv"), results.SelectMany(result => result.Curve));
        MetricsCsv.Write(Path.Combine(folder, "layers.csv"), results.SelectMany(result => result.Layers));
        MetricsCsv.Write(Path.Combine(folder, "layer-snapshots.csv"), results.SelectMany(result => result.Snapshots.SelectMany(snapshot =>
            snapshot.Layers.Where(layer => layer.IsPrunable).Select(layer => new SnapshotRow(result.Summary.Run, snapshot.Step, layer.Name, layer.NonZeroCount, layer.Sparsity)))));

        using var validation = ExperimentChart.Create("Validation loss (Brown, BPE 1024)", "step", "nats / token");
        using var training = ExperimentChart.Create($"Training loss ({SmoothingWindow}-step moving mean)", "step", "nats / token");
        using var sparsity = ExperimentChart.Create("Sparsity of the prunable weights", "step", "pruned fraction");
        using var size = ExperimentChart.Create("Non-zero parameters N(t) and Nbar so far", "step", "parameters");
        foreach (var result in results)
        {
            var name = result.Summary.Run;
            var evaluated = result.Curve.Where(step => step.ValidationLoss.HasValue).ToArray();
            var steps = result.Curve.Select(step => (double)step.Step).ToArray();
            ExperimentChart.AddLine(validation, name, evaluated.Select(step => (double)step.Step).ToArray(), evaluated.Select(step => step.ValidationLoss!.Value).ToArray());
            ExperimentChart.AddLine(training, name, steps, MovingMean(result.Curve.Select(step => step.TrainingLoss).ToArray(), SmoothingWindow));
            ExperimentChart.AddLine(sparsity, name, steps, result.Curve.Select(step => step.PrunableSparsity).ToArray());
            ExperimentChart.AddLine(size, $"{name} N(t)", steps, result.Curve.Select(step => (double)step.NonZeroCount).ToArray());
            ExperimentChart.AddLine(size, $"{name} Nbar", steps, result.Curve.Select(step => step.AverageParameterCount).ToArray());
        }

        ExperimentChart.Save(validation, Path.Combine(folder, "validation-loss"));
        ExperimentChart.Save(training, Path.Combine(folder, "training-loss"));
        ExperimentChart.Save(sparsity, Path.Combine(folder, "sparsity"));
        ExperimentChart.Save(size, Path.Combine(folder, "parameters"));
    }

    public static void PrintComparison(IReadOnlyList<SparsePretrainingResult> results)
    {
        Console.WriteLine();
        Console.WriteLine($"{"run",-12} {"schedule",-15} {"N",9} {"s_f",7} {"final N",9} {"Nbar",9} {"tokens",9} {"val loss",9} {"train loss",10} {"min",5}");
        foreach (var summary in results.Select(result => result.Summary))
        {
            Console.WriteLine($"{summary.Run,-12} {summary.Schedule,-15} {summary.ParameterCount,9:N0} {summary.TargetFinalSparsity,7:P1} {summary.FinalNonZeroCount,9:N0} " +
                $"{summary.AverageParameterCount,9:N0} {summary.Tokens,9:N0} {summary.FinalValidationLoss,9:F4} {summary.FinalTrainingLoss,10:F4} {summary.Seconds / 60,5:F1}");
        }

        var dense = results[0].Summary;
        foreach (var summary in results.Skip(1).Select(result => result.Summary))
        {
            Console.WriteLine($"{summary.Run}: validation loss {summary.FinalValidationLoss - dense.FinalValidationLoss:+0.0000;-0.0000} vs dense " +
                $"({(summary.FinalValidationLoss / dense.FinalValidationLoss - 1) * 100:+0.00;-0.00}%), ends with {(double)summary.FinalNonZeroCount / dense.FinalNonZeroCount:P1} of the dense size.");
        }

        Console.WriteLine("Per-layer final sparsity:");
        foreach (var result in results.Where(result => result.Events.Count > 0))
        {
            var prunable = result.Layers.Where(layer => layer.IsPrunable).ToArray();
            var (lowest, highest) = (prunable.MinBy(layer => layer.Sparsity)!, prunable.MaxBy(layer => layer.Sparsity)!);
            Console.WriteLine($"  {result.Summary.Run}: {prunable.Length} prunable weights from {lowest.Sparsity:P2} ({lowest.Parameter}) to {highest.Sparsity:P2} ({highest.Parameter}); " +
                "embeddings, norms and biases 0% (layers.csv has every parameter)");
        }
    }

    public static void WriteGrid(string folder, IReadOnlyList<SparsePretrainingGridRun> runs, IReadOnlyList<ScalingLawComparison> comparisons)
    {
        MetricsCsv.Write(Path.Combine(folder, "grid.csv"), runs);
        var evaluations = comparisons.SelectMany(comparison => new[] { comparison.Average, comparison.Final }.Select(evaluation => (comparison, evaluation))).ToArray();
        MetricsCsv.Write(Path.Combine(folder, "scaling-fits.csv"), evaluations.Select(pair => new ScalingFitRow(pair.comparison.HoldOut, pair.comparison.CountEmbeddings,
            pair.evaluation.Count, pair.comparison.FittedRuns, pair.comparison.HeldOutRuns, pair.evaluation.Fit.Parameters.E, pair.evaluation.Fit.Parameters.A,
            pair.evaluation.Fit.Parameters.Alpha, pair.evaluation.Fit.Parameters.B, pair.evaluation.Fit.Parameters.Beta, pair.evaluation.FitError, pair.evaluation.HeldOutError)));
        MetricsCsv.Write(Path.Combine(folder, "scaling-predictions.csv"), evaluations.SelectMany(pair => pair.evaluation.Predictions.Select(prediction =>
            new ScalingPredictionRow(pair.comparison.HoldOut, pair.comparison.CountEmbeddings, pair.evaluation.Count, prediction.Run, prediction.Actual, prediction.Predicted))));

        using var chart = ExperimentChart.Create("Final validation loss against Nbar (sparse at its Nbar)", "Nbar (parameters)", "nats / token");
        foreach (var group in runs.GroupBy(run => (run.Tokens, run.IsSparse)).OrderBy(group => group.Key.IsSparse).ThenBy(group => group.Key.Tokens))
        {
            var ordered = group.OrderBy(run => run.AverageParameterCount).ToArray();
            ExperimentChart.AddLine(chart, $"{(group.Key.IsSparse ? "sparse" : "dense")} D={group.Key.Tokens:N0}", ordered.Select(run => run.AverageParameterCount).ToArray(),
                ordered.Select(run => run.FinalValidationLoss).ToArray());
        }

        ExperimentChart.Save(chart, Path.Combine(folder, "grid-loss-vs-nbar"));
    }

    public static void PrintGrid(IReadOnlyList<SparsePretrainingGridRun> runs, IReadOnlyList<ScalingLawComparison> comparisons)
    {
        Console.WriteLine();
        Console.WriteLine($"{"run",-24} {"s_f",7} {"N",9} {"final N",9} {"Nbar",9} {"tokens",9} {"val loss",9}");
        foreach (var run in runs)
        {
            Console.WriteLine($"{run.Run,-24} {run.FinalSparsity,7:P1} {run.ParameterCount,9:N0} {run.FinalNonZeroCount,9:N0} {run.AverageParameterCount,9:N0} {run.Tokens,9:N0} {run.FinalValidationLoss,9:F4}");
        }

        Console.WriteLine();
        Console.WriteLine("Scaling-law fits (error = mean |L_pred - L| / L):");
        foreach (var comparison in comparisons)
        {
            foreach (var evaluation in new[] { comparison.Average, comparison.Final })
            {
                var law = evaluation.Fit.Parameters;
                Console.WriteLine($"  hold out {comparison.HoldOut,-13} {(comparison.CountEmbeddings ? "with" : "without"),-7} embeddings, in {(evaluation.Count == ScalingParameterCount.Average ? "Nbar" : "N   ")}: " +
                    $"fit on {comparison.FittedRuns,2} runs {evaluation.FitError:P2}, held-out {comparison.HeldOutRuns,2} runs {evaluation.HeldOutError:P2}; " +
                    $"L = {law.E:F3} + {law.A:G3}/N^{law.Alpha:F3} + {law.B:G3}/D^{law.Beta:F3}");
            }
        }
    }

    private static double[] MovingMean(double[] values, int window)
    {
        var result = new double[values.Length];
        double sum = 0;
        for (var index = 0; index < values.Length; index++)
        {
            sum += values[index];
            if (index >= window) sum -= values[index - window];
            result[index] = sum / Math.Min(index + 1, window);
        }

        return result;
    }
}
