using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Schedules;

namespace Pipelines.Experiments;

/// <summary>A model size of an experiment, by name.</summary>
/// <param name="Name">The name in tables, e.g. <c>2x64</c>.</param>
/// <param name="Model">The model's shape.</param>
public sealed record ModelSize(string Name, TransformerConfig Model)
{
    /// <summary>A size named <c>{layers}x{channels}</c>.</summary>
    public static ModelSize Of(TransformerConfig model) => new($"{model.LayerCount}x{model.Channels}", model ?? throw new ArgumentNullException(nameof(model)));
}

/// <summary>Options of <see cref="OptimizerTuningExperiment"/>: the search, the confirmation seeds and sizes, the shared WSD schedule.</summary>
/// <remarks>
/// Every run, tuning or confirmation, trains under the same warmup-stable-decay schedule (arXiv 2404.06395): 5% linear
/// warm-up, the peak, a linear decay over the last <see cref="DecayFraction"/> of the run to 0, for the same steps and
/// tokens. Tuning runs at seed 0 of <see cref="Setup"/>; the confirmation seeds are 1..<see cref="Seeds"/>, so the
/// reported spread is not biased by the choice (a setting picked on seed 0 would look better on seed 0).
/// </remarks>
public sealed record OptimizerTuningOptions
{
    /// <summary>Creates options.</summary>
    /// <param name="setup">The tuning model, batch shape, steps and seeds (seed k adds k to the model and sampler seeds).</param>
    /// <param name="sizes">The model sizes of the confirmation runs (the tuning size usually among them).</param>
    /// <exception cref="ArgumentException">No sizes, or two with the same name.</exception>
    public OptimizerTuningOptions(PretrainingSetup setup, IReadOnlyList<ModelSize> sizes)
    {
        Setup = setup ?? throw new ArgumentNullException(nameof(setup));
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Count == 0) throw new ArgumentException("At least one model size is needed.", nameof(sizes));
        if (sizes.Select(size => size.Name).Distinct().Count() != sizes.Count) throw new ArgumentException("Two model sizes share a name.", nameof(sizes));
        Sizes = [.. sizes];
    }

    /// <summary>The tuning run's setup; confirmation runs change only the model and the seed.</summary>
    public PretrainingSetup Setup { get; }

    /// <summary>The confirmation sizes.</summary>
    public IReadOnlyList<ModelSize> Sizes { get; }

    /// <summary>The optimizers compared (default AdamW, Signum, FOCUS).</summary>
    public IReadOnlyList<PretrainingOptimizer> Optimizers { get; init => field = value is { Count: > 0 } ? value : throw new ArgumentOutOfRangeException(nameof(Optimizers), value?.Count, "At least one optimizer."); }
        = [PretrainingOptimizer.AdamW, PretrainingOptimizer.Signum, PretrainingOptimizer.Focus];

    /// <summary>Tuning runs per optimizer, the same for each (default 8).</summary>
    public int Trials { get; init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Trials), value, "At least one trial per optimizer."); } = 8;

    /// <summary>The values searched.</summary>
    public OptimizerSearchSpace Space { get; init => field = value ?? throw new ArgumentNullException(nameof(Space)); } = new();

    /// <summary>The random search's seed (default 13).</summary>
    public int SearchSeed { get; init; } = 13;

    /// <summary>Confirmation seeds per size and optimizer, seeds 1..n (default 3).</summary>
    public int Seeds { get; init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Seeds), value, "At least one seed."); } = 3;

    /// <summary>The decay's share of the run, in (0, 1) (default 0.2).</summary>
    public double DecayFraction { get; init => field = value is > 0 and < 1 ? value : throw new ArgumentOutOfRangeException(nameof(DecayFraction), value, "Must lie in (0, 1)."); } = 0.2;

    /// <summary>Steps of the per-step timing of each winner (default 20; 0 skips the timing).</summary>
    public int TimingSteps { get; init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(TimingSteps), value, "Must not be negative."); } = 20;

    /// <summary>The warm-up: 5% of the run, at least one step.</summary>
    public long WarmupSteps => Math.Max(1, Setup.Training.Steps / 20);

    /// <summary>The schedule every run trains under, at <paramref name="peakLearningRate"/>.</summary>
    public WarmupStableDecaySchedule ScheduleFor(double peakLearningRate) =>
        new(peakLearningRate, Setup.Training.Steps, DecayLength.OfFraction(DecayFraction), WarmupSteps);

    /// <summary>The setup of <paramref name="size"/> at <paramref name="seed"/> (model and sampler seeds moved by the seed).</summary>
    public PretrainingSetup SetupFor(ModelSize size, int seed) => Seeded(Setup, size.Model, seed);

    internal static PretrainingSetup Seeded(PretrainingSetup setup, TransformerConfig model, int seed) =>
        new(model, setup.Training with { Seed = setup.Training.Seed + (ulong)seed })
        {
            ModelSeed = setup.ModelSeed + (ulong)seed, FinalEvaluationBatches = setup.FinalEvaluationBatches,
        };
}

/// <summary>
/// FOCUS (arXiv 2501.12243) against AdamW and Signum with an equal tuning budget: the same number of random-search
/// trials each over the hyperparameters that matter, then each optimizer's best at several fresh seeds and model
/// sizes, all under one WSD schedule at equal tokens; and each winner's wall time per step.
/// </summary>
/// <remarks>
/// Reports: <see cref="OptimizerTuningReport"/>. Example: <c>samples/HeadlineClaims</c> (<c>optimizers</c>).
/// A diverged run scores +infinity and is never a best.
/// </remarks>
public static class OptimizerTuningExperiment
{
    /// <summary>Runs the search, the confirmations and the timing.</summary>
    /// <param name="options">The search, seeds, sizes and schedule.</param>
    /// <param name="trainingTokens">The training stream.</param>
    /// <param name="validationTokens">The validation stream.</param>
    /// <param name="threads">Runs trained at once, each model single-threaded (results do not depend on it).</param>
    /// <param name="progress">Told after each run.</param>
    /// <param name="cancellationToken">Stops between and inside runs.</param>
    /// <exception cref="ArgumentOutOfRangeException">More trials than an optimizer has settings, or a token outside the vocabulary.</exception>
    public static OptimizerTuningResult Run(OptimizerTuningOptions options, int[] trainingTokens, int[] validationTokens, int threads = 1,
        IProgress<PretrainingRunResult>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Optimizers.SelectMany(optimizer => options.Space.Sample(optimizer, options.Trials, options.SearchSeed)).ToArray();
        var tuning = ExperimentJobs.Run(settings.Select(setting => (Func<OptimizerTrial>)(() =>
            new OptimizerTrial(setting, Train(options, options.Setup, setting, trainingTokens, validationTokens, cancellationToken)))).ToArray(),
            threads, trial => progress?.Report(trial.Run), cancellationToken);

        var best = options.Optimizers.Select(optimizer => tuning.Where(trial => trial.Setting.Optimizer == optimizer).MinBy(trial => trial.Run.FinalValidationLoss)!.Setting).ToArray();
        var plan = (from size in options.Sizes.OrderByDescending(size => (long)size.Model.LayerCount * size.Model.Channels * size.Model.Channels) // long runs first
                    from seed in Enumerable.Range(1, options.Seeds)
                    from setting in best
                    select (size, seed, setting)).ToArray();
        var confirmations = ExperimentJobs.Run(plan.Select(item => (Func<OptimizerConfirmation>)(() =>
            new OptimizerConfirmation(item.size.Name, item.seed, item.setting,
                Train(options, options.SetupFor(item.size, item.seed), item.setting, trainingTokens, validationTokens, cancellationToken)))).ToArray(),
            threads, confirmation => progress?.Report(confirmation.Run), cancellationToken);

        var timings = options.TimingSteps == 0 ? [] : OptimizerStepTiming.Measure(options, best, trainingTokens, cancellationToken);
        return new OptimizerTuningResult(options, tuning, best, confirmations, timings);
    }

    private static PretrainingRunResult Train(OptimizerTuningOptions options, PretrainingSetup setup, OptimizerSetting setting, int[] trainingTokens,
        int[] validationTokens, CancellationToken cancellationToken) =>
        PretrainingRun.Run(setting.Name, setting.PeakLearningRate, setup, setting.Create(options.ScheduleFor(setting.PeakLearningRate)),
            trainingTokens, validationTokens, Parallelism.Sequential, cancellationToken);
}

/// <summary>A tuning run: the setting tried and how it ended.</summary>
public sealed record OptimizerTrial(OptimizerSetting Setting, PretrainingRunResult Run);

/// <summary>A confirmation run: an optimizer's best setting at one size and seed.</summary>
public sealed record OptimizerConfirmation(string Size, int Seed, OptimizerSetting Setting, PretrainingRunResult Run);

/// <summary>An optimizer's final validation loss over the confirmation seeds at one size.</summary>
/// <param name="Size">The model size.</param>
/// <param name="Setting">The optimizer's best setting.</param>
/// <param name="Losses">Final validation loss per seed, in seed order.</param>
public sealed record OptimizerSummary(string Size, OptimizerSetting Setting, IReadOnlyList<double> Losses)
{
    /// <summary>Mean over seeds.</summary>
    public double Mean => Losses.Average();

    /// <summary>Sample standard deviation over seeds (0 for one seed).</summary>
    public double StandardDeviation => SeedStatistics.StandardDeviation(Losses);
}

/// <summary>Everything an <see cref="OptimizerTuningExperiment"/> measured.</summary>
public sealed class OptimizerTuningResult
{
    internal OptimizerTuningResult(OptimizerTuningOptions options, IReadOnlyList<OptimizerTrial> tuning, IReadOnlyList<OptimizerSetting> best,
        IReadOnlyList<OptimizerConfirmation> confirmations, IReadOnlyList<OptimizerTiming> timings)
    {
        Options = options;
        Tuning = tuning;
        Best = best;
        Confirmations = confirmations;
        Timings = timings;
        Summaries = (from size in options.Sizes
                     from setting in best
                     let runs = confirmations.Where(run => run.Size == size.Name && run.Setting == setting).OrderBy(run => run.Seed)
                     select new OptimizerSummary(size.Name, setting, runs.Select(run => run.Run.FinalValidationLoss).ToArray())).ToArray();
        Gaps = options.Sizes.SelectMany(size => SeedGap.OfWinner(size.Name,
            Summaries.Where(summary => summary.Size == size.Name).Select(summary => (summary.Setting.Name, summary.Losses)).ToArray())).ToArray();
    }

    /// <summary>The options.</summary>
    public OptimizerTuningOptions Options { get; }

    /// <summary>Every tuning run, optimizer by optimizer, anchor first.</summary>
    public IReadOnlyList<OptimizerTrial> Tuning { get; }

    /// <summary>Each optimizer's best tuning setting, in the options' order.</summary>
    public IReadOnlyList<OptimizerSetting> Best { get; }

    /// <summary>Every confirmation run.</summary>
    public IReadOnlyList<OptimizerConfirmation> Confirmations { get; }

    /// <summary>Per size and optimizer: the final losses over the seeds.</summary>
    public IReadOnlyList<OptimizerSummary> Summaries { get; }

    /// <summary>Per size: the winner against each other optimizer.</summary>
    public IReadOnlyList<SeedGap> Gaps { get; }

    /// <summary>Wall time per step of each winner (empty when not timed).</summary>
    public IReadOnlyList<OptimizerTiming> Timings { get; }
}

/// <summary>A winner against another contender, seed by seed (the same seed gives both the same data and initial weights).</summary>
/// <param name="Group">What the two share: a model size, a budget.</param>
/// <param name="Winner">The contender with the lower mean loss.</param>
/// <param name="Other">The contender compared.</param>
/// <param name="Differences">Other's loss minus the winner's, per seed.</param>
public sealed record SeedGap(string Group, string Winner, string Other, IReadOnlyList<double> Differences)
{
    /// <summary>Mean of the per-seed differences.</summary>
    public double Mean => Differences.Average();

    /// <summary>Sample standard deviation of the per-seed differences.</summary>
    public double StandardDeviation => SeedStatistics.StandardDeviation(Differences);

    /// <summary>
    /// Whether the gap exceeds the seed spread: every seed has the winner ahead and the mean difference is more than
    /// twice its standard error (a paired t of 2; with 3 seeds roughly a 90% two-sided test).
    /// </summary>
    public bool ExceedsSeedSpread => Differences.Count >= 2 && Differences.All(difference => difference > 0)
        && Mean > 2 * StandardDeviation / Math.Sqrt(Differences.Count);

    /// <summary>The gaps of the lowest mean among <paramref name="contenders"/> (name, per-seed losses in the same seed order) against each other one.</summary>
    public static IReadOnlyList<SeedGap> OfWinner(string group, IReadOnlyList<(string Name, IReadOnlyList<double> Losses)> contenders)
    {
        ArgumentNullException.ThrowIfNull(contenders);
        var winner = contenders.MinBy(contender => contender.Losses.Average());
        return contenders.Where(contender => contender.Name != winner.Name)
            .Select(other => new SeedGap(group, winner.Name, other.Name, other.Losses.Zip(winner.Losses, (loss, winnerLoss) => loss - winnerLoss).ToArray()))
            .ToArray();
    }
}

/// <summary>Mean and spread over seeds.</summary>
internal static class SeedStatistics
{
    /// <summary>The sample standard deviation (n - 1); 0 for fewer than two values.</summary>
    public static double StandardDeviation(IReadOnlyList<double> values)
    {
        if (values.Count < 2) return 0;
        var mean = values.Average();
        return Math.Sqrt(values.Sum(value => (value - mean) * (value - mean)) / (values.Count - 1));
    }
}
