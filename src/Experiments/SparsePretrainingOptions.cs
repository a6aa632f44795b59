using Pipelines.Components.Models;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Training;

namespace Pipelines.Experiments;

/// <summary>One pre-training run of <see cref="SparsePretrainingExperiment"/>: a GPT, its batches and optimizer, and an optional pruning plan.</summary>
/// <remarks>
/// <para>The optimizer is AdamW (arXiv 1711.05101) with decoupled decay on matrices, global-norm clipping and a
/// linear warm-up then cosine to <c>MinimumLearningRateRatio * peak</c>, the nanoGPT recipe; for a sparse run
/// the chain ends with the hook's <see cref="ApplyMaskTransform"/> and a <see cref="PruningTrainingHook"/> masks
/// gradients, values and optimizer state (sparse pre-training, arXiv 2501.12486).</para>
/// <para>Validated once, by <see cref="Validate"/> (which <see cref="SparsePretrainingExperiment.Run"/> calls).
/// Same options, same thread count: the same bits.</para>
/// </remarks>
public sealed record SparsePretrainingRunOptions
{
    /// <summary>A label for reports and files (letters, digits, '-', '_' and '.').</summary>
    public required string Name { get; init; }

    /// <summary>The GPT's shape.</summary>
    public required TransformerConfig Model { get; init; }

    /// <summary>Batch shape, number of updates, evaluation schedule and batch seed (every run with the same seed sees the same batches).</summary>
    public required LanguageModelTrainingOptions Training { get; init; }

    /// <summary>The pruning plan, or null for a dense run; its <see cref="PruningOptions.TotalSteps"/> must equal the training steps.</summary>
    public PruningOptions? Pruning { get; init; }

    /// <summary>Peak learning rate (default 3e-3, suitable for models of a few hundred thousand parameters).</summary>
    public double PeakLearningRate { get; init; } = 3e-3;

    /// <summary>Warm-up length as a fraction of the run, in [0, 1) (default 0.05).</summary>
    public double WarmupFraction { get; init; } = 0.05;

    /// <summary>The cosine's floor as a fraction of the peak, in [0, 1] (default 0.1, as nanoGPT).</summary>
    public double MinimumLearningRateRatio { get; init; } = 0.1;

    /// <summary>Decoupled weight decay on matrices (default 0.1, as nanoGPT).</summary>
    public double WeightDecay { get; init; } = 0.1;

    /// <summary>AdamW's second-moment decay (default 0.95, as nanoGPT for short runs).</summary>
    public double Beta2 { get; init; } = 0.95;

    /// <summary>Global gradient-norm clip (default 1.0).</summary>
    public double ClipNorm { get; init; } = 1.0;

    /// <summary>Seed of the GPT-2-style initialisation (default 1).</summary>
    public ulong InitializationSeed { get; init; } = 1;

    /// <summary>Threads for the kernels (default 1). Results depend on it (reduction order), not on scheduling.</summary>
    public int ThreadCount { get; init; } = 1;

    /// <summary>Validation batches of the final evaluation (default 32: more windows than the periodic evaluations use).</summary>
    public int FinalEvaluationBatches { get; init; } = 32;

    /// <summary>Whether this run prunes.</summary>
    public bool IsSparse => Pruning is not null;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> (or <see cref="ArgumentNullException"/>) naming the first invalid option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name) || !Name.All(character => char.IsAsciiLetterOrDigit(character) || character is '-' or '_' or '.'))
            throw new ArgumentOutOfRangeException(nameof(Name), Name, "Must be non-empty and use only ASCII letters, digits, '-', '_' and '.'.");
        ArgumentNullException.ThrowIfNull(Model, nameof(Model));
        ArgumentNullException.ThrowIfNull(Training, nameof(Training));
        Training.Validate(Model.ContextLength);
        if (Training.Steps < 1) throw new ArgumentOutOfRangeException(nameof(Training), Training.Steps, "A run needs at least one step.");
        if (Pruning is not null)
        {
            Pruning.Validate();
            if (Pruning.TotalSteps != Training.Steps)
                throw new ArgumentOutOfRangeException(nameof(Pruning), Pruning.TotalSteps, $"The pruning plan spans {Pruning.TotalSteps} steps; the run has {Training.Steps}.");
        }

        if (!(PeakLearningRate > 0 && double.IsFinite(PeakLearningRate))) throw new ArgumentOutOfRangeException(nameof(PeakLearningRate), PeakLearningRate, "Must be positive and finite.");
        if (!(WarmupFraction >= 0 && WarmupFraction < 1)) throw new ArgumentOutOfRangeException(nameof(WarmupFraction), WarmupFraction, "Must lie in [0, 1).");
        if (!(MinimumLearningRateRatio >= 0 && MinimumLearningRateRatio <= 1))
            throw new ArgumentOutOfRangeException(nameof(MinimumLearningRateRatio), MinimumLearningRateRatio, "Must lie in [0, 1].");
        if (!(WeightDecay >= 0 && double.IsFinite(WeightDecay))) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "Must be finite and non-negative.");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, "Must lie in [0, 1).");
        if (!(ClipNorm > 0 && double.IsFinite(ClipNorm))) throw new ArgumentOutOfRangeException(nameof(ClipNorm), ClipNorm, "Must be positive and finite.");
        if (ThreadCount < 1) throw new ArgumentOutOfRangeException(nameof(ThreadCount), ThreadCount, "Must be at least 1.");
        if (FinalEvaluationBatches < 1) throw new ArgumentOutOfRangeException(nameof(FinalEvaluationBatches), FinalEvaluationBatches, "Must be at least 1.");
    }
}

/// <summary>A named pruning schedule whose final sparsity is still to be chosen (for example to match a dense model's Nbar).</summary>
/// <param name="Name">The run's label.</param>
/// <param name="Template">Schedule shape, start and end fractions, interval and criterion; its final sparsity and total steps are replaced.</param>
public sealed record NamedPruningPlan(string Name, PruningOptions Template);

/// <summary>The parameter counts of a GPT shape.</summary>
/// <param name="Total">All scalar parameters (N of a dense run).</param>
/// <param name="Prunable">Those pruning may remove: the linear layers' weights (P).</param>
/// <param name="Embedding">Those of the token and position embeddings (never pruned).</param>
public sealed record ModelParameterCounts(long Total, long Prunable, long Embedding)
{
    /// <summary>Parameters that are never pruned: F = N - P.</summary>
    public long Fixed => Total - Prunable;
}
