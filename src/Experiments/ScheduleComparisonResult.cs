namespace Pipelines.Experiments;

/// <summary>A schedule's final validation loss at one budget over the comparison seeds.</summary>
/// <param name="Schedule">The schedule.</param>
/// <param name="Budget">The budget.</param>
/// <param name="PeakLearningRate">Its tuned peak.</param>
/// <param name="Losses">Final validation loss per seed, in seed order.</param>
public sealed record ScheduleSummary(string Schedule, long Budget, double PeakLearningRate, IReadOnlyList<double> Losses)
{
    /// <summary>Mean over seeds.</summary>
    public double Mean => Losses.Average();

    /// <summary>Sample standard deviation over seeds (0 for one seed).</summary>
    public double StandardDeviation => SeedStatistics.StandardDeviation(Losses);
}

/// <summary>Everything a <see cref="ScheduleComparisonExperiment"/> measured.</summary>
public sealed class ScheduleComparisonResult
{
    internal ScheduleComparisonResult(ScheduleComparisonOptions options, IReadOnlyList<ScheduleRun> tuning, IReadOnlyList<ScheduleRun> runs, ScheduleLawScore law)
    {
        Options = options;
        Tuning = tuning;
        Runs = runs;
        Law = law;
        Summaries = runs.GroupBy(run => (run.Schedule, run.Budget))
            .Select(group => new ScheduleSummary(group.Key.Schedule, group.Key.Budget, group.First().PeakLearningRate,
                group.OrderBy(run => run.Seed).Select(run => run.FinalValidationLoss).ToArray()))
            .OrderBy(summary => summary.Budget).ThenBy(summary => summary.Schedule, StringComparer.Ordinal).ToArray();
        Gaps = options.Budgets.SelectMany(budget => SeedGap.OfWinner(budget.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Summaries.Where(summary => summary.Budget == budget).Select(summary => (summary.Schedule, summary.Losses)).ToArray())).ToArray();
    }

    /// <summary>The options.</summary>
    public ScheduleComparisonOptions Options { get; }

    /// <summary>The tuning runs at seed 0: cosine at every budget and rate, WSD at the first budget and every rate.</summary>
    public IReadOnlyList<ScheduleRun> Tuning { get; }

    /// <summary>Every comparison model, seeds 1..n.</summary>
    public IReadOnlyList<ScheduleRun> Runs { get; }

    /// <summary>Per schedule and budget: the final losses over seeds.</summary>
    public IReadOnlyList<ScheduleSummary> Summaries { get; }

    /// <summary>Per budget: the best schedule against every other one there, seed by seed.</summary>
    public IReadOnlyList<SeedGap> Gaps { get; }

    /// <summary>The loss law fitted on the cosine runs and its errors on the others.</summary>
    public ScheduleLawScore Law { get; }
}
