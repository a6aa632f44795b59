using Pipelines.Components.Backends;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Training;
using Pipelines.Pretraining;

namespace Pipelines.Sparsity;

/// <summary>
/// How <see cref="SparsePretrainingEstimator"/> pre-trains a GPT while pruning it: the pre-training run
/// (<see cref="Pretraining"/>) and the pruning plan.
/// </summary>
/// <remarks>
/// <para>Sparse pre-training (arXiv 2501.12486): the linear layers' weights are pruned by magnitude on a sparsity
/// ramp, by default Zhu &amp; Gupta's cubic (arXiv 1710.01878) from 0 at 25% of the run to <see cref="FinalSparsity"/>
/// at 75%. Models are compared by their average parameter count <c>Nbar = (1/T) sum_t N(t)</c>; set
/// <see cref="TargetAverageParameterCount"/> (for example a dense model's size) and the final sparsity is solved so
/// that the run's Nbar equals it (<see cref="SparsityBudget"/>).</para>
/// <para>Immutable. Each value is checked when it is set and the rules between values when the estimator is created;
/// a bad value throws <see cref="ArgumentOutOfRangeException"/> naming the option and the value.</para>
/// </remarks>
public sealed record SparsePretrainingOptions
{
    /// <summary>Creates options around the pre-training options <paramref name="pretraining"/> (default <see cref="CausalLanguageModelOptions"/>).</summary>
    public SparsePretrainingOptions(CausalLanguageModelOptions? pretraining = null) => Pretraining = pretraining ?? new CausalLanguageModelOptions();

    /// <summary>The pre-training run: model, data columns, batches, steps, optimizer, checkpoints.</summary>
    public CausalLanguageModelOptions Pretraining { get; init => field = value ?? throw new ArgumentNullException(nameof(Pretraining)); }

    /// <summary>
    /// What runs the model: null (the default) is <see cref="CausalLanguageModelOptions.Backend"/> of <see cref="Pretraining"/>,
    /// itself null for the managed CPU engine (<see cref="ManagedBackend"/>); <c>new TorchSharpBackend(device)</c> from
    /// <c>Pipelines.Components.TorchSharp</c> prunes with mask tensors on the device, with the same masks, N(t) and Nbar.
    /// Setting both this and the pre-training options' backend to different objects is refused.
    /// </summary>
    public ITrainingBackend? Backend { get; init; }

    /// <summary>
    /// Receives a report after every step, on the training thread, with the sparsity and Nbar so far; null for none.
    /// (<see cref="CausalLanguageModelOptions.Progress"/> of <see cref="Pretraining"/> receives the plain reports too.)
    /// </summary>
    public IProgress<SparseTrainingProgress>? Progress { get; init; }

    /// <summary>s_f: the pruned fraction of the linear weights at the end, in [0, 1) (default 0.5); ignored when <see cref="TargetAverageParameterCount"/> is set.</summary>
    public double FinalSparsity { get; init => field = value >= 0 && value < 1 ? value : throw OptionChecks.OutOfRange(nameof(FinalSparsity), value, "Must lie in [0, 1)."); } = 0.5;

    /// <summary>
    /// When set, the Nbar the run must reach (for example the parameter count of a dense model to match): the final
    /// sparsity is solved for the run's length and schedule. Fitting fails if no final sparsity in [s_i, 1) reaches it.
    /// </summary>
    public double? TargetAverageParameterCount
    {
        get;
        init => field = value is { } target && !(target > 0 && double.IsFinite(target)) ? throw OptionChecks.OutOfRange(nameof(TargetAverageParameterCount), target, "Must be a finite number above 0.") : value;
    }

    /// <summary>s_i: the target at the first pruning step, in [0, <see cref="FinalSparsity"/>] (default 0).</summary>
    public double InitialSparsity { get; init => field = value >= 0 && value < 1 ? value : throw OptionChecks.OutOfRange(nameof(InitialSparsity), value, "Must lie in [0, 1)."); }

    /// <summary>The shape of the ramp (default cubic).</summary>
    public SparsityScheduleKind Schedule { get; init => field = Enum.IsDefined(value) ? value : throw OptionChecks.OutOfRange(nameof(Schedule), value, "Unknown schedule."); } = SparsityScheduleKind.Cubic;

    /// <summary>Where pruning starts, as a fraction of the run, in [0, 1] (default 0.25).</summary>
    public double StartFraction { get; init => field = value >= 0 && value <= 1 ? value : throw OptionChecks.OutOfRange(nameof(StartFraction), value, "Must lie in [0, 1]."); } = 0.25;

    /// <summary>Where the final sparsity is reached, as a fraction of the run, in [<see cref="StartFraction"/>, 1] (default 0.75).</summary>
    public double EndFraction { get; init => field = value >= 0 && value <= 1 ? value : throw OptionChecks.OutOfRange(nameof(EndFraction), value, "Must lie in [0, 1]."); } = 0.75;

    /// <summary>dt: prune every this many steps; null (the default) is 2% of the run (at least 1), about 25 pruning steps in a 25%-75% ramp.</summary>
    public long? PruningInterval { get; init => field = value is { } interval && interval < 1 ? throw OptionChecks.OutOfRange(nameof(PruningInterval), interval, "Must be at least 1.") : value; }

    /// <summary>Which weights compete for pruning (default each layer on its own).</summary>
    public PruningCriterionKind Criterion { get; init => field = Enum.IsDefined(value) ? value : throw OptionChecks.OutOfRange(nameof(Criterion), value, "Unknown criterion."); } = PruningCriterionKind.Layerwise;

    /// <summary>Checks the rules between options (each value alone was checked when set), the pre-training options' included.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value conflicts with another; the message names both.</exception>
    internal void Validate()
    {
        Pretraining.Validate();
        if (Backend is not null && Pretraining.Backend is not null && !ReferenceEquals(Backend, Pretraining.Backend))
            throw new ArgumentException($"The options {nameof(Backend)} ('{Backend.Name}') and {nameof(Pretraining)}.{nameof(CausalLanguageModelOptions.Backend)} ('{Pretraining.Backend.Name}') differ: set one.", nameof(Backend));
        if (EndFraction < StartFraction)
            throw OptionChecks.OutOfRange(nameof(EndFraction), EndFraction, $"Must not be below StartFraction ({StartFraction}).");
        if (TargetAverageParameterCount is null && InitialSparsity > FinalSparsity)
            throw OptionChecks.OutOfRange(nameof(InitialSparsity), InitialSparsity, $"Must not exceed FinalSparsity ({FinalSparsity}).");
    }

    /// <summary>The backend of the run: <see cref="Backend"/>, else the pre-training options' (null there too: the managed engine).</summary>
    internal ITrainingBackend? ResolveBackend() => Backend ?? Pretraining.Backend;

    /// <summary>The pruning plan of a run of <paramref name="steps"/> steps over a model of <paramref name="prunableCount"/> prunable and <paramref name="fixedCount"/> other parameters.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="TargetAverageParameterCount"/> cannot be reached (named).</exception>
    internal PruningOptions ResolvePruning(long steps, long prunableCount, long fixedCount)
    {
        var interval = PruningInterval ?? Math.Max(1, (long)Math.Round(0.02 * steps, MidpointRounding.AwayFromZero));
        var plan = new PruningOptions
        {
            InitialSparsity = InitialSparsity,
            FinalSparsity = TargetAverageParameterCount is null ? FinalSparsity : InitialSparsity,
            StartFraction = StartFraction,
            EndFraction = EndFraction,
            PruningInterval = interval,
            TotalSteps = steps,
            Criterion = Criterion,
            Schedule = Schedule,
        };
        if (TargetAverageParameterCount is not { } target) return plan;
        try
        {
            return plan with { FinalSparsity = SparsityBudget.RequiredFinalSparsity(prunableCount, fixedCount, target, plan) };
        }
        catch (ArgumentOutOfRangeException exception)
        {
            throw OptionChecks.OutOfRange(nameof(TargetAverageParameterCount), target,
                $"Unreachable for this model ({prunableCount} prunable + {fixedCount} other parameters) and schedule over {steps} steps: {exception.Message}");
        }
    }
}
