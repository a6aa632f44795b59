using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;

namespace Pipelines.Components.Training;

/// <summary>
/// Trains a causal language model: the one <see cref="TrainingLoop"/> over random token windows
/// (sample a batch, forward, check the loss, backward, check the gradients, update; evaluate, report progress and
/// checkpoint on schedule).
/// </summary>
/// <remarks>
/// Step s always trains on the batch the sampler draws for s and the optimizer's state is checkpointed with
/// the weights, so a run resumed from a checkpoint continues bit-identically to one never interrupted
/// (for the same thread count).
/// </remarks>
public sealed class LanguageModelTrainer
{
    private readonly ICausalLanguageModel model;
    private readonly IOptimizer optimizer;
    private readonly LanguageModelTrainingOptions options;
    private readonly IReadOnlyList<ITrainingHook> hooks;

    /// <summary>Creates a trainer; the options are validated against the model's context.</summary>
    /// <param name="model">The model to train.</param>
    /// <param name="optimizer">The optimizer (its state is checkpointed with the weights).</param>
    /// <param name="options">Batch shape, length, evaluation and checkpoints.</param>
    /// <param name="hooks">Code that takes part in every step (pruning, privacy, diagnostics), called in this order.</param>
    public LanguageModelTrainer(ICausalLanguageModel model, IOptimizer optimizer, LanguageModelTrainingOptions options, IReadOnlyList<ITrainingHook>? hooks = null)
    {
        this.hooks = hooks ?? [];
        this.model = model ?? throw new ArgumentNullException(nameof(model));
        this.optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        this.options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate(model.Config.ContextLength);
    }

    /// <summary>
    /// Trains on <paramref name="trainingTokens"/>, evaluating on <paramref name="validationTokens"/> (may be
    /// null). With <paramref name="resumeFrom"/>, first restores that checkpoint and continues from its step.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became non-finite.</exception>
    /// <exception cref="RunChangedException">The checkpoint was trained under a different run (see <see cref="LanguageModelTrainingOptions.AcceptedChanges"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (a checkpoint is written first when checkpointing is on).</exception>
    public LanguageModelTrainingResult Train(int[] trainingTokens, int[]? validationTokens, IProgress<TrainingProgress>? progress = null, string? resumeFrom = null, CancellationToken cancellationToken = default)
    {
        var task = new LanguageModelTask(model, options, trainingTokens, validationTokens);
        var loop = new TrainingLoop(task, new ArenaTrainingState(model.Parameters, optimizer, hooks) { Parallelism = ThreadsOf(model) }, options.Loop);
        var result = loop.Run(RunRecord.ForLanguageModel(model.Config, options, optimizer, trainingTokens), progress, resumeFrom, cancellationToken);
        return new LanguageModelTrainingResult(result.Steps, result.History, result.FinalValidationLoss);
    }

    /// <summary>The threads the model runs on (the engine's GPT says; another model, one), for the optimizer and the clearing of gradients.</summary>
    internal static Parallelism ThreadsOf(ICausalLanguageModel model) => model is GptModel gpt ? gpt.Parallelism : Parallelism.Sequential;

    /// <summary>Mean loss over <see cref="LanguageModelTrainingOptions.EvaluationBatches"/> fixed windows of <paramref name="tokens"/>.</summary>
    public double Evaluate(int[] tokens) =>
        LanguageModelTask.Evaluate(model, options, new TokenBatchSampler(tokens, options.BatchSize, options.SequenceLength, options.Seed));
}

/// <summary>What a training run ended with.</summary>
/// <param name="Steps">Updates completed.</param>
/// <param name="History">Per-step metrics of the whole run (restored ones included after a resume).</param>
/// <param name="FinalValidationLoss">The last validation loss, if any evaluation ran.</param>
public sealed record LanguageModelTrainingResult(long Steps, IReadOnlyList<StepMetrics> History, double? FinalValidationLoss);
