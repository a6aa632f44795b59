using Pipelines.Components.Compute;
using Pipelines.Components.Schedules;

namespace Pipelines.Experiments;

/// <summary>Options of <see cref="OptimizerComparisonExperiment"/>: the shared setup, the candidates and the WSD schedule.</summary>
/// <remarks>
/// Every candidate trains at each of its peak rates under the same warmup-stable-decay shape (arXiv 2404.06395):
/// <see cref="WarmupSteps"/> of linear warm-up, the peak, then a decay over <see cref="Decay"/> to
/// <see cref="MinRatio"/> of the peak at the last step. All runs see the same tokens in the same order.
/// </remarks>
public sealed record OptimizerComparisonOptions
{
    /// <summary>Creates options.</summary>
    /// <exception cref="ArgumentException">No candidates, or two with the same name.</exception>
    public OptimizerComparisonOptions(PretrainingSetup setup, IReadOnlyList<OptimizerCandidate> candidates)
    {
        Setup = setup ?? throw new ArgumentNullException(nameof(setup));
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0) throw new ArgumentException("At least one optimizer is needed.", nameof(candidates));
        var repeated = candidates.GroupBy(candidate => candidate.Name).FirstOrDefault(group => group.Count() > 1);
        if (repeated is not null) throw new ArgumentException($"Two candidates are named '{repeated.Key}'.", nameof(candidates));
        Candidates = [.. candidates];
        WarmupSteps = Math.Max(1, setup.Training.Steps / 20);
    }

    /// <summary>Model, seeds, batch shape and run length, shared by every run.</summary>
    public PretrainingSetup Setup { get; }

    /// <summary>The optimizers and their grids of peak rates.</summary>
    public IReadOnlyList<OptimizerCandidate> Candidates { get; }

    /// <summary>Warm-up steps (default 5% of the run, at least 1).</summary>
    public long WarmupSteps { get; init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(WarmupSteps), value, "Must not be negative."); }

    /// <summary>The decay's length (default 20% of the run; MiniCPM finds 10-20% enough).</summary>
    public DecayLength Decay { get; init => field = value ?? throw new ArgumentNullException(nameof(Decay)); } = DecayLength.OfFraction(0.2);

    /// <summary>The decay's shape (default linear).</summary>
    public DecayShape DecayShape { get; init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(DecayShape), value, "Unknown decay shape."); } = DecayShape.Linear;

    /// <summary>The rate at the end of the decay as a fraction of the peak, in [0, 1] (default 0).</summary>
    public double MinRatio { get; init => field = value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MinRatio), value, "Must lie in [0, 1]."); }

    /// <summary>The schedule of a run at <paramref name="peakLearningRate"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The warm-up and the decay do not fit in the run.</exception>
    public WarmupStableDecaySchedule ScheduleFor(double peakLearningRate) =>
        new(peakLearningRate, Setup.Training.Steps, Decay, WarmupSteps, DecayShape, MinRatio);
}

/// <summary>
/// Pre-trains a small GPT once per (optimizer, peak rate) at equal tokens under WSD, and picks each optimizer's
/// best rate by final validation loss: FOCUS (arXiv 2501.12243) against AdamW and Signum, or any candidates.
/// </summary>
/// <remarks>
/// Runs are independent and go over threads (<c>runParallelism</c>), each model single-threaded, so the results
/// depend only on the options and the tokens. A diverged run scores +infinity. Reports:
/// <see cref="OptimizerComparisonReport"/>. Example: <c>samples/OptimizerComparison</c>.
/// </remarks>
public static class OptimizerComparisonExperiment
{
    /// <summary>Runs every candidate at every rate of its grid.</summary>
    /// <param name="options">Setup, candidates and schedule.</param>
    /// <param name="trainingTokens">The training stream (ids below the model's vocabulary).</param>
    /// <param name="validationTokens">The validation stream.</param>
    /// <param name="runParallelism">How many runs train at once (default one).</param>
    /// <param name="progress">Told after each run.</param>
    /// <param name="cancellationToken">Stops between and inside runs.</param>
    /// <exception cref="ArgumentOutOfRangeException">A schedule does not fit the run, or a token is outside the vocabulary.</exception>
    public static OptimizerComparisonResult Run(OptimizerComparisonOptions options, int[] trainingTokens, int[] validationTokens,
        Parallelism? runParallelism = null, IProgress<PretrainingRunResult>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var grid = options.Candidates.SelectMany(candidate => candidate.PeakLearningRates.Select(rate => (Candidate: candidate, Rate: rate))).ToArray();
        foreach (var (_, rate) in grid) options.ScheduleFor(rate); // fail before any run if a schedule does not fit
        var runs = PretrainingRun.RunAll(grid.Length, index =>
        {
            var (candidate, rate) = grid[index];
            return PretrainingRun.Run(candidate.Name, rate, options.Setup, candidate.Create(options.ScheduleFor(rate)),
                trainingTokens, validationTokens, Parallelism.Sequential, cancellationToken);
        }, runParallelism ?? Parallelism.Sequential, progress, cancellationToken);
        return new OptimizerComparisonResult(options, runs);
    }
}

/// <summary>Every run of an <see cref="OptimizerComparisonExperiment"/>, and each optimizer's best.</summary>
public sealed class OptimizerComparisonResult
{
    internal OptimizerComparisonResult(OptimizerComparisonOptions options, IReadOnlyList<PretrainingRunResult> runs)
    {
        Options = options;
        Runs = runs;
        Best = options.Candidates
            .Select(candidate => runs.Where(run => run.Name == candidate.Name).MinBy(run => run.FinalValidationLoss)!)
            .ToArray();
    }

    /// <summary>The options the runs used.</summary>
    public OptimizerComparisonOptions Options { get; }

    /// <summary>Every run, candidate by candidate, each in its grid's order.</summary>
    public IReadOnlyList<PretrainingRunResult> Runs { get; }

    /// <summary>Each candidate's run with the lowest final validation loss (the first on a tie), in the candidates' order.</summary>
    public IReadOnlyList<PretrainingRunResult> Best { get; }

    /// <summary>The best run over all candidates.</summary>
    public PretrainingRunResult Winner => Best.MinBy(run => run.FinalValidationLoss)!;

    /// <summary>Whether a candidate's best rate lies at an end of its grid (so a better rate may lie outside it).</summary>
    public bool IsBestAtGridEdge(string name)
    {
        var candidate = Options.Candidates.FirstOrDefault(item => item.Name == name) ?? throw new KeyNotFoundException($"No candidate is named '{name}'.");
        var best = Best.First(run => run.Name == name).PeakLearningRate;
        return candidate.PeakLearningRates.Count > 1 && (best == candidate.PeakLearningRates.Min() || best == candidate.PeakLearningRates.Max());
    }
}
