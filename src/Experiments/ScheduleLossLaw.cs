using Pipelines.Components.Schedules;

namespace Pipelines.Experiments;

/// <summary>One validation point of a schedule comparison's run with the loss law's value there.</summary>
/// <param name="Schedule">The run's schedule.</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="Budget">The run's budget.</param>
/// <param name="Step">Updates done when the loss was measured.</param>
/// <param name="Measured">The periodic validation loss.</param>
/// <param name="Predicted">The law's loss.</param>
/// <param name="Fitted">Whether the point was fitted (cosine) or only predicted.</param>
public sealed record ScheduleLawPoint(string Schedule, int Seed, long Budget, long Step, double Measured, double Predicted, bool Fitted)
{
    /// <summary><c>|Predicted - Measured| / Measured</c>.</summary>
    public double RelativeError => Math.Abs(Predicted - Measured) / Measured;
}

/// <summary>The annealing loss law fitted on a schedule comparison's cosine runs, and its errors on the other schedules.</summary>
/// <param name="Fit">The law fitted on every comparison seed's cosine runs at every budget.</param>
/// <param name="FirstFittedStep">Validation points before this step are neither fitted nor scored.</param>
/// <param name="Points">Every scored point, fitted or predicted.</param>
public sealed record ScheduleLawScore(LossLawFit Fit, long FirstFittedStep, IReadOnlyList<ScheduleLawPoint> Points)
{
    /// <summary>Per schedule: the mean absolute relative error over its points, and the mean relative error of its final points (at the budgets).</summary>
    public IReadOnlyList<(string Schedule, bool Fitted, double MeanAbsoluteRelativeError, double FinalPointError)> Errors =>
        Points.GroupBy(point => point.Schedule).Select(group =>
        {
            var finals = group.GroupBy(point => (point.Seed, point.Budget)).Select(run => run.MaxBy(point => point.Step)!).ToArray();
            return (group.Key, group.First().Fitted, group.Average(point => point.RelativeError), finals.Average(point => point.RelativeError));
        }).ToArray();
}

/// <summary>Fits the annealing loss law (arXiv 2408.11029, <see cref="AnnealingLossLaw"/>) on cosine runs and scores its prediction of the others.</summary>
/// <remarks>
/// As <see cref="LossLawExperiment"/>: the loss measured after <c>s</c> updates is matched with the areas at step
/// <c>s - 1</c>; warm-up counted at each run's own peak. The fit sees only the cosine runs (all comparison seeds and
/// budgets); every WSD branch is scored over its whole curve (its stable part included), and WSD-S over its curve to the last budget.
/// </remarks>
internal static class ScheduleLossLaw
{
    public static ScheduleLawScore Score(ScheduleComparisonOptions options, IReadOnlyList<ScheduleRun> runs)
    {
        var firstFitted = Math.Max(options.WarmupSteps + 1, options.Budgets[0] / 5);
        var scored = runs.Where(run => run.Seed > 0 && double.IsFinite(run.FinalValidationLoss))
            .Where(run => run.Schedule != ScheduleComparisonExperiment.WsdsName(options.MainDecayFraction) || run.Budget == options.Budgets[^1])
            .Select(run => (Run: run, Curve: Curve(options, run, firstFitted)))
            .Where(item => item.Curve is not null)
            .ToArray();
        var fitted = scored.Where(item => item.Run.Schedule == ScheduleComparisonExperiment.CosineName).ToArray();
        if (fitted.Length == 0) throw new InvalidOperationException($"No cosine run has a validation loss from step {firstFitted} on; evaluate more often.");
        var fit = AnnealingLossLaw.Fit(fitted.Select(item => item.Curve!).ToArray());
        var points = new List<ScheduleLawPoint>();
        foreach (var (run, curve) in scored)
        {
            var predicted = AnnealingLossLaw.Predict(fit.Parameters, curve!.Schedule, curve.Steps, curve.Areas);
            for (var index = 0; index < curve.Steps.Count; index++)
                points.Add(new ScheduleLawPoint(run.Schedule, run.Seed, run.Budget, curve.Steps[index] + 1, curve.Losses[index], predicted[index],
                    run.Schedule == ScheduleComparisonExperiment.CosineName));
        }

        return new ScheduleLawScore(fit, firstFitted, points);
    }

    private static LossCurve? Curve(ScheduleComparisonOptions options, ScheduleRun run, long firstFitted)
    {
        var (steps, losses) = PretrainingRun.ValidationCurve(run.History);
        var kept = Enumerable.Range(0, steps.Length).Where(index => steps[index] >= firstFitted).ToArray();
        return kept.Length == 0 ? null : new LossCurve(run.LearningRates, kept.Select(index => steps[index] - 1).ToArray(),
            kept.Select(index => losses[index]).ToArray(), options.Areas(run.PeakLearningRate));
    }
}
