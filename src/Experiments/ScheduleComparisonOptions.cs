using Pipelines.Components.Schedules;

namespace Pipelines.Experiments;

/// <summary>Options of <see cref="ScheduleComparisonExperiment"/>: the budgets, the rates tried, the seeds, the decays compared.</summary>
/// <remarks>
/// Every run shares the warm-up (<see cref="WarmupSteps"/>), the optimizer and the batch shape, so a budget of
/// <c>T</c> steps is the same compute for every schedule. Tuning runs at seed 0; the comparison at fresh seeds
/// 1..<see cref="Seeds"/>. Decay fractions are of each budget (WSD) or of each cycle (WSD-S).
/// </remarks>
public sealed record ScheduleComparisonOptions
{
    /// <summary>Creates options.</summary>
    /// <param name="setup">Model, batch shape, evaluation and seeds (its step count is ignored: the budgets set each run's length).</param>
    /// <param name="budgets">Three or more strictly increasing step budgets <c>T1 &lt; T2 &lt; T3</c>, each a multiple of the evaluation interval.</param>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than two budgets, budgets not increasing, or one that is not a multiple of the evaluation interval.</exception>
    public ScheduleComparisonOptions(PretrainingSetup setup, IReadOnlyList<long> budgets)
    {
        Setup = setup ?? throw new ArgumentNullException(nameof(setup));
        ArgumentNullException.ThrowIfNull(budgets);
        if (budgets.Count < 2) throw new ArgumentOutOfRangeException(nameof(budgets), budgets.Count, "At least two budgets are needed.");
        var interval = setup.Training.EvaluationInterval;
        for (var index = 0; index < budgets.Count; index++)
        {
            if (budgets[index] < 1 || (index > 0 && budgets[index] <= budgets[index - 1]))
                throw new ArgumentOutOfRangeException(nameof(budgets), budgets[index], $"budgets[{index}] = {budgets[index]}: budgets must be strictly increasing and positive.");
            if (interval < 1 || budgets[index] % interval != 0)
                throw new ArgumentOutOfRangeException(nameof(budgets), budgets[index], $"budgets[{index}] = {budgets[index]} is not a multiple of the evaluation interval {interval}: the loss at each budget must be measured.");
        }

        Budgets = [.. budgets];
        WarmupSteps = Math.Max(1, budgets[0] / 10);
    }

    /// <summary>Model, batch shape, evaluation and seeds.</summary>
    public PretrainingSetup Setup { get; }

    /// <summary>The budgets <c>T1 &lt; T2 &lt; ...</c>.</summary>
    public IReadOnlyList<long> Budgets { get; }

    /// <summary>The optimizer of every run (default AdamW with <see cref="OptimizerCandidate.AdamW"/>'s settings).</summary>
    public PretrainingOptimizer Optimizer { get; init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(Optimizer), value, "Unknown optimizer."); } = PretrainingOptimizer.AdamW;

    /// <summary>The peak rates tried: cosine at every budget, WSD at the first (default 1e-3, 3e-3, 6e-3).</summary>
    public IReadOnlyList<double> PeakLearningRates
    {
        get;
        init => field = value is { Count: > 0 } && value.All(rate => double.IsFinite(rate) && rate > 0)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(PeakLearningRates), value is null ? null : string.Join(", ", value), "At least one rate, each finite and positive.");
    } = [1e-3, 3e-3, 6e-3];

    /// <summary>Comparison seeds, 1..n (default 3).</summary>
    public int Seeds { get; init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Seeds), value, "At least one seed."); } = 3;

    /// <summary>Linear warm-up steps of every run (default a tenth of the first budget, at least 1).</summary>
    public long WarmupSteps { get; init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(WarmupSteps), value, "Must not be negative."); }

    /// <summary>The WSD decay lengths branched at every budget, as fractions of the budget (default 0.1 and 0.2, MiniCPM's range).</summary>
    public IReadOnlyList<double> DecayFractions
    {
        get;
        init => field = value is { Count: > 0 } && value.All(fraction => fraction is > 0 and < 1)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(DecayFractions), value is null ? null : string.Join(", ", value), "At least one fraction, each in (0, 1).");
    } = [0.1, 0.2];

    /// <summary>The decay fraction of the WSD-S cycles, the shape runs and the WSD tuning runs (default 0.2).</summary>
    public double MainDecayFraction { get; init => field = value is > 0 and < 1 ? value : throw new ArgumentOutOfRangeException(nameof(MainDecayFraction), value, "Must lie in (0, 1)."); } = 0.2;

    /// <summary>The decay shapes compared with the linear one at the middle budget and the main fraction (default cosine and 1-sqrt).</summary>
    public IReadOnlyList<DecayShape> OtherDecayShapes { get; init => field = value ?? throw new ArgumentNullException(nameof(OtherDecayShapes)); } = [DecayShape.Cosine, DecayShape.OneMinusSqrt];

    /// <summary>The annealing momentum's decay lambda of the loss law, in [0, 1) (default 0.999, the paper's).</summary>
    public double MomentumDecay { get; init => field = value is >= 0 and < 1 ? value : throw new ArgumentOutOfRangeException(nameof(MomentumDecay), value, "Must lie in [0, 1)."); } = 0.999;

    /// <summary>The budget the decay shapes are compared at: the middle one.</summary>
    public long ShapeBudget => Budgets[Budgets.Count / 2];

    /// <summary>Decay steps of a WSD run of <paramref name="budget"/> steps at <paramref name="fraction"/> (rounded half away from zero, at least 1).</summary>
    public static long DecayStepsOf(long budget, double fraction) => Math.Max(1, (long)Math.Round(fraction * budget, MidpointRounding.AwayFromZero));

    /// <summary>The cosine of a run of <paramref name="budget"/> steps, to 0 at its last step.</summary>
    public CosineSchedule Cosine(double peakLearningRate, long budget) => new(peakLearningRate, budget, WarmupSteps);

    /// <summary>A WSD run of <paramref name="budget"/> steps whose decay of <paramref name="shape"/> takes <paramref name="fraction"/> of it.</summary>
    public WarmupStableDecaySchedule Wsd(double peakLearningRate, long budget, double fraction, DecayShape shape = DecayShape.Linear) =>
        new(peakLearningRate, budget, DecayLength.OfSteps(DecayStepsOf(budget, fraction)), WarmupSteps, shape);

    /// <summary>The WSD-S plan through every budget.</summary>
    public WsdsPlan Wsds(double peakLearningRate) => new(peakLearningRate, Budgets, MainDecayFraction, WarmupSteps);

    /// <summary>How the loss law takes a schedule's areas: warm-up counted at <paramref name="peakLearningRate"/>, lambda = <see cref="MomentumDecay"/>.</summary>
    public AnnealingAreaOptions Areas(double peakLearningRate) => new(WarmupSteps, MomentumDecay, countWarmupAtPeak: true, peakLearningRate);

    /// <summary>The setup of a run of <paramref name="steps"/> at <paramref name="seed"/>.</summary>
    public PretrainingSetup SetupFor(long steps, int seed) => OptimizerTuningOptions.Seeded(
        new PretrainingSetup(Setup.Model, Setup.Training with { Steps = steps }) { ModelSeed = Setup.ModelSeed, FinalEvaluationBatches = Setup.FinalEvaluationBatches },
        Setup.Model, seed);
}
