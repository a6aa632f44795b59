using Pipelines.Components.Optimization;
using Pipelines.Components.Training;

namespace Pipelines.Components.Backends;

/// <summary>Everything a backend needs to train a causal language model: data, optimizer chain, loop options, hooks and the run's plumbing.</summary>
/// <param name="TrainingTokens">The token stream windows are drawn from.</param>
/// <param name="ValidationTokens">Tokens to validate on, or null.</param>
/// <param name="Optimizer">The optimizer chain (with its learning-rate schedule), for example <c>Optimizers.AdamW(...)</c>.</param>
/// <param name="Options">Batch shape, length, evaluation and checkpoints.</param>
public sealed record LanguageModelTrainingRun(int[] TrainingTokens, int[]? ValidationTokens, IGradientTransform Optimizer, LanguageModelTrainingOptions Options)
{
    /// <summary>Code taking part in every step (schedule layout checks, pruning, privacy); called in this order.</summary>
    public IReadOnlyList<ITrainingHook> Hooks { get; init; } = [];

    /// <summary>Receives a report after every step.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>A checkpoint to continue from, or null.</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Stops the run between steps (after writing a checkpoint when checkpointing is on).</summary>
    public CancellationToken CancellationToken { get; init; }
}
