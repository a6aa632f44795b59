using System.Globalization;
using System.Text;
using ScottPlot;

namespace Pipelines.Experiments;

/// <summary>CSV tables, a markdown report and the loss-against-tokens chart of an <see cref="OptimizerTuningResult"/>.</summary>
public static class OptimizerTuningReport
{
    /// <summary>The files <see cref="Write"/> produces, without directory.</summary>
    public static IReadOnlyList<string> FileNames { get; } =
    [
        "optimizer-tuning.csv", "optimizer-seeds.csv", "optimizer-curves.csv", "optimizer-timing.csv", "optimizers.md",
        "optimizer-loss-vs-tokens.svg", "optimizer-loss-vs-tokens.png",
    ];

    /// <summary>Writes every table, the markdown report and the chart into <paramref name="directory"/> (created); returns the paths.</summary>
    public static IReadOnlyList<string> Write(OptimizerTuningResult result, string directory)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "optimizer-tuning.csv"), TuningCsv(result));
        File.WriteAllText(Path.Combine(directory, "optimizer-seeds.csv"), SeedsCsv(result));
        File.WriteAllText(Path.Combine(directory, "optimizer-curves.csv"), CurvesCsv(result));
        File.WriteAllText(Path.Combine(directory, "optimizer-timing.csv"), ExperimentCsv.Of(result.Timings));
        File.WriteAllText(Path.Combine(directory, "optimizers.md"), Markdown(result));
        using (var chart = LossChart(result)) ExperimentChart.Save(chart, Path.Combine(directory, "optimizer-loss-vs-tokens"));
        return FileNames.Select(name => Path.Combine(directory, name)).ToArray();
    }

    /// <summary>One row per tuning run: the setting's values, the final validation loss, whether it is its optimizer's best.</summary>
    public static string TuningCsv(OptimizerTuningResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return ExperimentCsv.Of(result.Tuning.Select(trial => new
        {
            Optimizer = trial.Setting.Name, trial.Setting.PeakLearningRate, trial.Setting.Beta1, trial.Setting.Beta2, trial.Setting.WeightDecay,
            trial.Setting.Gamma, Placement = trial.Setting.Optimizer == PretrainingOptimizer.Focus ? trial.Setting.Placement.ToString() : "",
            trial.Run.FinalValidationLoss, trial.Run.DivergedAtStep, IsBest = result.Best.Contains(trial.Setting),
            ElapsedSeconds = Math.Round(trial.Run.Elapsed.TotalSeconds, 1),
        }));
    }

    /// <summary>One row per confirmation run: size, seed, optimizer, setting, final validation loss, wall time.</summary>
    public static string SeedsCsv(OptimizerTuningResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return ExperimentCsv.Of(result.Confirmations.Select(run => new
        {
            run.Size, run.Seed, Optimizer = run.Setting.Name, Setting = run.Setting.Description, run.Run.FinalValidationLoss,
            ElapsedSeconds = Math.Round(run.Run.Elapsed.TotalSeconds, 1),
        }));
    }

    /// <summary>The validation points of every confirmation run: size, seed, optimizer, step, tokens, loss.</summary>
    public static string CurvesCsv(OptimizerTuningResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var tokensPerStep = result.Options.Setup.TokensPerRun / result.Options.Setup.Training.Steps;
        return ExperimentCsv.Of(result.Confirmations.SelectMany(run => run.Run.History.Where(row => row.ValidationLoss is not null).Select(row => new
        {
            run.Size, run.Seed, Optimizer = run.Setting.Name, row.Step, Tokens = row.Step * tokensPerStep, ValidationLoss = row.ValidationLoss!.Value,
        })));
    }

    /// <summary>The tuning table, the per-seed table with mean and spread, the paired gaps and the timing, in markdown.</summary>
    public static string Markdown(OptimizerTuningResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = new StringBuilder();
        var options = result.Options;
        text.Append(Invariant($"Tuning: {options.Trials} runs per optimizer at {ModelSize.Of(options.Setup.Model).Name}, seed 0, {options.Setup.Training.Steps} steps x {options.Setup.Training.BatchSize} x {options.Setup.Training.SequenceLength} tokens; WSD with {options.WarmupSteps} warm-up steps and a linear decay over the last {options.DecayFraction:P0}.\n\n"));
        text.Append("| Optimizer | best setting (tuning, seed 0) | its loss | worst of its trials |\n|---|---|---|---|\n");
        foreach (var best in result.Best)
        {
            var trials = result.Tuning.Where(trial => trial.Setting.Optimizer == best.Optimizer).ToArray();
            text.Append(Invariant($"| {best.Name} | {best.Description} | {ExperimentText.Loss(trials.First(trial => trial.Setting == best).Run.FinalValidationLoss)} | {ExperimentText.Loss(trials.Max(trial => trial.Run.FinalValidationLoss))} |\n"));
        }

        var seeds = string.Join(", ", Enumerable.Range(1, options.Seeds));
        text.Append(Invariant($"\nConfirmation at fresh seeds {seeds}: final validation loss (nats/token), mean ± sample standard deviation over seeds.\n\n"));
        text.Append("| Size | Optimizer | mean ± sd | per seed |\n|---|---|---|---|\n");
        foreach (var summary in result.Summaries.OrderBy(summary => summary.Size).ThenBy(summary => summary.Mean))
            text.Append(Invariant($"| {summary.Size} | {summary.Setting.Name} | {ExperimentText.Loss(summary.Mean)} ± {summary.StandardDeviation:F4} | {string.Join(", ", summary.Losses.Select(ExperimentText.Loss))} |\n"));

        text.Append("\nThe winner of each size against the others, seed by seed (other minus winner; the same seed gives both the same data and initial weights):\n\n");
        text.Append("| Size | Winner | vs | mean gap ± sd | exceeds the seed spread |\n|---|---|---|---|---|\n");
        foreach (var gap in result.Gaps)
            text.Append(Invariant($"| {gap.Group} | {gap.Winner} | {gap.Other} | {gap.Mean:+0.0000;-0.0000} ± {gap.StandardDeviation:F4} | {(gap.ExceedsSeedSpread ? "yes" : "no")} |\n"));

        if (result.Timings.Count > 0)
        {
            text.Append("\nWall time per step, one thread, median of 3 alternating rounds:\n\n| Optimizer | size | ms per step | of which the update |\n|---|---|---|---|\n");
            foreach (var timing in result.Timings)
                text.Append(Invariant($"| {timing.Name} | {timing.Size} | {1000 * timing.SecondsPerStep:F1} | {1000 * timing.UpdateSecondsPerStep:F2} |\n"));
        }

        return text.ToString();
    }

    /// <summary>The validation loss against training tokens of each optimizer's best setting, mean over seeds, one line per size and optimizer.</summary>
    public static Plot LossChart(OptimizerTuningResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var tokensPerStep = (double)(result.Options.Setup.TokensPerRun / result.Options.Setup.Training.Steps);
        var chart = ExperimentChart.Create("Validation loss of each optimizer's best setting (mean over seeds)", "training tokens", "validation loss (nats/token)");
        foreach (var group in result.Confirmations.Where(run => !run.Run.Diverged).GroupBy(run => (run.Size, run.Setting.Name)))
        {
            var curves = group.Select(run => PretrainingRun.ValidationCurve(run.Run.History)).ToArray();
            var length = curves.Min(curve => curve.Steps.Length);
            var tokens = curves[0].Steps.Take(length).Select(step => step * tokensPerStep).ToArray();
            var mean = Enumerable.Range(0, length).Select(index => curves.Average(curve => curve.Losses[index])).ToArray();
            ExperimentChart.AddLine(chart, $"{group.Key.Name} {group.Key.Size}", tokens, mean);
        }

        return chart;
    }


    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
