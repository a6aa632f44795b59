using Pipelines.Components.Lora;
using Pipelines.Components.Optimization;
using Pipelines.Components.Training;

namespace Pipelines.Components.Backends;

/// <summary>Everything a backend needs to fine-tune a classifier: data, optimizer chain, loop options, hooks and the run's plumbing.</summary>
/// <param name="Training">The labelled sequences to train on.</param>
/// <param name="Validation">The labelled sequences to evaluate on, or null.</param>
/// <param name="Optimizer">The optimizer chain (with its learning-rate schedule).</param>
/// <param name="Options">Batch shape, length, sampling, evaluation and checkpoints.</param>
public sealed record ClassifierTrainingRun(LabeledSequences Training, LabeledSequences? Validation, IGradientTransform Optimizer, ClassifierTrainerOptions Options)
{
    /// <summary>
    /// Per-example loss weights, one per training example (null = all equal): each batch's loss is
    /// <c>Σ wᵢ·ℓᵢ / Σ wᵢ</c> (see <see cref="ClassifierTrainer.Train"/>).
    /// </summary>
    public float[]? ExampleWeights { get; init; }

    /// <summary>
    /// LoRA adapters to train on the frozen encoder instead of every weight (the classification head still trains), or
    /// null (the default) for full fine-tuning. Afterwards the adapter is merged into the weights.
    /// </summary>
    public LoraInjectionPlan? LoraPlan { get; init; }

    /// <summary>Code taking part in every step, called in this order.</summary>
    public IReadOnlyList<ITrainingHook> Hooks { get; init; } = [];

    /// <summary>Receives a report after every step.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>A checkpoint to continue from, or null.</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Stops the run between steps (after writing a checkpoint when checkpointing is on).</summary>
    public CancellationToken CancellationToken { get; init; }
}
