using System.Globalization;
using System.Text;
using ScottPlot;

namespace Pipelines.Experiments;

/// <summary>CSV tables, a markdown report and the charts of a <see cref="ScheduleComparisonResult"/>.</summary>
public static class ScheduleComparisonReport
{
    /// <summary>The files <see cref="Write"/> produces, without directory.</summary>
    public static IReadOnlyList<string> FileNames { get; } =
    [
        "schedule-tuning.csv", "schedule-finals.csv", "schedule-curves.csv", "schedule-law.csv", "schedules.md",
        "schedule-curves.svg", "schedule-curves.png", "schedule-law.svg", "schedule-law.png",
    ];

    /// <summary>Writes every table, the markdown report and the charts into <paramref name="directory"/> (created); returns the paths.</summary>
    public static IReadOnlyList<string> Write(ScheduleComparisonResult result, string directory)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "schedule-tuning.csv"), Finals(result.Tuning));
        File.WriteAllText(Path.Combine(directory, "schedule-finals.csv"), Finals(result.Runs));
        File.WriteAllText(Path.Combine(directory, "schedule-curves.csv"), CurvesCsv(result));
        File.WriteAllText(Path.Combine(directory, "schedule-law.csv"), ExperimentCsv.Of(result.Law.Points.Select(point => new
        {
            point.Schedule, point.Seed, point.Budget, point.Step, point.Measured, point.Predicted, point.RelativeError, point.Fitted,
        })));
        File.WriteAllText(Path.Combine(directory, "schedules.md"), Markdown(result));
        using (var chart = CurvesChart(result)) ExperimentChart.Save(chart, Path.Combine(directory, "schedule-curves"));
        using (var chart = LawChart(result)) ExperimentChart.Save(chart, Path.Combine(directory, "schedule-law"));
        return FileNames.Select(name => Path.Combine(directory, name)).ToArray();
    }

    /// <summary>The validation points of every comparison model: schedule, seed, budget, step, tokens, learning rate, loss.</summary>
    public static string CurvesCsv(ScheduleComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var tokensPerStep = (long)result.Options.Setup.Training.BatchSize * result.Options.Setup.Training.SequenceLength;
        return ExperimentCsv.Of(result.Runs.SelectMany(run => run.History.Where(row => row.ValidationLoss is not null).Select(row => new
        {
            run.Schedule, run.Seed, run.Budget, row.Step, Tokens = row.Step * tokensPerStep, row.LearningRate, ValidationLoss = row.ValidationLoss!.Value,
        })));
    }

    /// <summary>The final losses per budget (mean ± sd), the gaps, the decay lengths and shapes, the loss law's errors, in markdown.</summary>
    public static string Markdown(ScheduleComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var options = result.Options;
        var text = new StringBuilder();
        var setup = options.Setup;
        text.Append(Invariant($"Budgets {string.Join(" < ", options.Budgets)} steps of {setup.Training.BatchSize} x {setup.Training.SequenceLength} tokens, GPT {ModelSize.Of(setup.Model).Name}, {options.Optimizer}, {options.WarmupSteps} warm-up steps for all; peaks tuned at seed 0 over {string.Join(", ", options.PeakLearningRates.Select(ExperimentText.Rate))} (cosine at each budget, WSD at the first); comparison at fresh seeds 1..{options.Seeds}.\n\n"));

        var schedules = result.Summaries.Select(summary => summary.Schedule).Distinct()
            .Where(schedule => options.Budgets.All(budget => result.Summaries.Any(summary => summary.Schedule == schedule && summary.Budget == budget))).ToArray();
        text.Append("Final validation loss at each budget (nats/token, mean ± sd over seeds; peak in brackets):\n\n| Schedule |");
        foreach (var budget in options.Budgets) text.Append(Invariant($" T = {budget} |"));
        text.Append('\n').Append("|---|").Append(string.Concat(options.Budgets.Select(_ => "---|"))).Append('\n');
        foreach (var schedule in schedules)
        {
            text.Append(Invariant($"| {schedule} |"));
            foreach (var budget in options.Budgets)
            {
                var summary = result.Summaries.FirstOrDefault(item => item.Schedule == schedule && item.Budget == budget);
                text.Append(summary is null ? " |" : Invariant($" {ExperimentText.Loss(summary.Mean)} ± {summary.StandardDeviation:F4} ({ExperimentText.Rate(summary.PeakLearningRate)}) |"));
            }

            text.Append('\n');
        }

        text.Append("\nAt each budget, the best schedule against the others, seed by seed (other minus best):\n\n| Budget | Best | vs | mean gap ± sd | exceeds the seed spread |\n|---|---|---|---|---|\n");
        foreach (var gap in result.Gaps)
            text.Append(Invariant($"| {gap.Group} | {gap.Winner} | {gap.Other} | {gap.Mean:+0.0000;-0.0000} ± {gap.StandardDeviation:F4} | {(gap.ExceedsSeedSpread ? "yes" : "no")} |\n"));

        text.Append(Invariant($"\nDecay length and shape at T = {options.ShapeBudget}:\n\n| WSD decay | mean ± sd | per seed |\n|---|---|---|\n"));
        foreach (var summary in result.Summaries.Where(summary => summary.Budget == options.ShapeBudget && summary.Schedule.StartsWith("WSD ", StringComparison.Ordinal)).OrderBy(summary => summary.Mean))
            text.Append(Invariant($"| {summary.Schedule["WSD ".Length..]} | {ExperimentText.Loss(summary.Mean)} ± {summary.StandardDeviation:F4} | {string.Join(", ", summary.Losses.Select(ExperimentText.Loss))} |\n"));

        var parameters = result.Law.Fit.Parameters;
        text.Append(Invariant($"\nLoss law fitted on the cosine runs (every seed and budget; points from step {result.Law.FirstFittedStep}, lambda {options.MomentumDecay}): L0 = {parameters.L0:G4}, A = {parameters.A:G4}, alpha = {parameters.Alpha:G4}, C = {parameters.C:G4}.\n\n"));
        text.Append("| Schedule | fitted or predicted | mean abs. relative error | error at the budgets' final points |\n|---|---|---|---|\n");
        foreach (var (schedule, fitted, mare, final) in result.Law.Errors)
            text.Append(Invariant($"| {schedule} | {(fitted ? "fitted" : "predicted")} | {100 * mare:F2}% | {100 * final:F2}% |\n"));
        return text.ToString();
    }

    /// <summary>
    /// Seed 1's validation loss against steps: the WSD stable phase with the main decay at the last budget, the main
    /// decays branched at the other budgets, cosine at each budget, and the WSD-S run.
    /// </summary>
    public static Plot CurvesChart(ScheduleComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var options = result.Options;
        var chart = ExperimentChart.Create("Seed 1: WSD's stable phase and decays, cosine per budget, WSD-S", "step", "validation loss (nats/token)");
        var mainWsd = ScheduleComparisonExperiment.WsdName(Components.Schedules.DecayShape.Linear, options.MainDecayFraction);
        foreach (var run in result.Runs.Where(run => run.Seed == 1 && run.Schedule == mainWsd).OrderByDescending(run => run.Budget))
        {
            var decayStart = run.Budget - ScheduleComparisonOptions.DecayStepsOf(run.Budget, options.MainDecayFraction);
            var history = run.Budget == options.Budgets[^1] ? run.History : run.History.Where(row => row.Step >= decayStart).ToArray();
            AddCurve(chart, run.Budget == options.Budgets[^1] ? Invariant($"{mainWsd}: stable, then decay to T = {run.Budget}") : Invariant($"{mainWsd} branch to T = {run.Budget}"), history);
        }

        foreach (var run in result.Runs.Where(run => run.Seed == 1 && run.Schedule == ScheduleComparisonExperiment.CosineName).OrderBy(run => run.Budget))
            AddCurve(chart, Invariant($"cosine to T = {run.Budget}"), run.History);
        var wsds = result.Runs.Where(run => run.Seed == 1 && run.Schedule == ScheduleComparisonExperiment.WsdsName(options.MainDecayFraction)).MaxBy(run => run.Budget);
        if (wsds is not null) AddCurve(chart, wsds.Schedule, wsds.History);
        return chart;
    }

    /// <summary>Seed 1's measured and predicted curves of the WSD run at the last budget and of the WSD-S run.</summary>
    public static Plot LawChart(ScheduleComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var options = result.Options;
        var chart = ExperimentChart.Create("Loss law fitted on cosine runs: predicted vs measured (seed 1)", "step", "validation loss (nats/token)");
        var names = new[] { ScheduleComparisonExperiment.WsdName(Components.Schedules.DecayShape.Linear, options.MainDecayFraction), ScheduleComparisonExperiment.WsdsName(options.MainDecayFraction) };
        foreach (var name in names)
        {
            var points = result.Law.Points.Where(point => point.Schedule == name && point.Seed == 1 && point.Budget == options.Budgets[^1]).OrderBy(point => point.Step).ToArray();
            if (points.Length == 0) continue;
            var steps = points.Select(point => (double)point.Step).ToArray();
            ExperimentChart.AddLine(chart, $"{name} measured", steps, points.Select(point => point.Measured).ToArray());
            ExperimentChart.AddLine(chart, $"{name} predicted", steps, points.Select(point => point.Predicted).ToArray());
        }

        return chart;
    }

    private static void AddCurve(Plot chart, string name, IReadOnlyList<Components.Training.StepMetrics> history)
    {
        var (steps, losses) = PretrainingRun.ValidationCurve(history);
        if (steps.Length > 0) ExperimentChart.AddLine(chart, name, steps.Select(step => (double)step).ToArray(), losses);
    }

    private static string Finals(IEnumerable<ScheduleRun> runs) => ExperimentCsv.Of(runs.Select(run => new
    {
        run.Schedule, run.Seed, run.Budget, run.PeakLearningRate, run.FinalValidationLoss,
    }));


    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
