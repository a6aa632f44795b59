using System.Diagnostics;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;

namespace Pipelines.Components.Training;

/// <summary>
/// The training loop of a causal language model: sample a batch, forward, check the loss, backward,
/// check the gradients, update; evaluate, report progress and checkpoint on schedule.
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
        var (batchSize, sequenceLength) = (options.BatchSize, options.SequenceLength);
        var sampler = new TokenBatchSampler(trainingTokens, batchSize, sequenceLength, options.Seed);
        var validationSampler = validationTokens is null ? null : new TokenBatchSampler(validationTokens, batchSize, sequenceLength, options.Seed);
        var inputs = new int[batchSize * sequenceLength];
        var targets = new int[batchSize * sequenceLength];
        var history = new List<StepMetrics>();
        long step = 0;
        var run = RunRecord.ForLanguageModel(model.Config, options, optimizer, trainingTokens);
        if (resumeFrom is not null) (step, history) = TrainingCheckpoint.Read(resumeFrom, model.Parameters, optimizer, hooks, run, options.AcceptedChanges);

        var startStep = step;
        var clock = Stopwatch.StartNew();
        double? latestValidation = history.LastOrDefault(record => record.ValidationLoss.HasValue)?.ValidationLoss;
        while (step < options.Steps)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                if (options.CheckpointInterval > 0) TrainingCheckpoint.Write(options.CheckpointPath!, step, model.Parameters, optimizer, history, hooks, run);
                cancellationToken.ThrowIfCancellationRequested();
            }

            sampler.Sample(step, inputs, targets);
            var learningRate = optimizer.CurrentLearningRate;
            var loss = TrainStep(step, inputs, targets);
            step++;

            double? validation = null;
            var evaluateNow = validationSampler is not null && (step == options.Steps || (options.EvaluationInterval > 0 && step % options.EvaluationInterval == 0));
            if (evaluateNow)
            {
                validation = Evaluate(validationSampler!, inputs, targets);
                latestValidation = validation;
            }

            history.Add(new StepMetrics(step, loss, learningRate, validation));
            if (options.CheckpointInterval > 0 && step % options.CheckpointInterval == 0)
                TrainingCheckpoint.Write(options.CheckpointPath!, step, model.Parameters, optimizer, history, hooks, run);
            var seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            progress?.Report(new TrainingProgress(step, options.Steps, (double)step * batchSize * sequenceLength / trainingTokens.Length, loss, learningRate,
                (step - startStep) * batchSize * sequenceLength / seconds, clock.Elapsed, latestValidation));
        }

        return new LanguageModelTrainingResult(step, history, latestValidation);
    }

    /// <summary>Mean loss over <see cref="LanguageModelTrainingOptions.EvaluationBatches"/> fixed windows of <paramref name="tokens"/>.</summary>
    public double Evaluate(int[] tokens)
    {
        var sampler = new TokenBatchSampler(tokens, options.BatchSize, options.SequenceLength, options.Seed);
        var size = options.BatchSize * options.SequenceLength;
        return Evaluate(sampler, new int[size], new int[size]);
    }

    private double TrainStep(long step, int[] inputs, int[] targets)
    {
        model.Parameters.ZeroGradients();
        var loss = model.Forward(inputs, targets, options.BatchSize, options.SequenceLength);
        TrainingGuard.CheckLoss(step, loss);
        model.Backward();
        TrainingGuard.CheckedUpdate(step, model.Parameters, optimizer, hooks);
        return loss;
    }

    private double Evaluate(TokenBatchSampler sampler, int[] inputs, int[] targets)
    {
        double sum = 0;
        for (var batch = 0; batch < options.EvaluationBatches; batch++)
        {
            sampler.SampleEvaluation(batch, options.EvaluationBatches * options.BatchSize, inputs, targets);
            sum += model.Forward(inputs, targets, options.BatchSize, options.SequenceLength);
        }

        return sum / options.EvaluationBatches;
    }
}

/// <summary>What a training run ended with.</summary>
/// <param name="Steps">Updates completed.</param>
/// <param name="History">Per-step metrics of the whole run (restored ones included after a resume).</param>
/// <param name="FinalValidationLoss">The last validation loss, if any evaluation ran.</param>
public sealed record LanguageModelTrainingResult(long Steps, IReadOnlyList<StepMetrics> History, double? FinalValidationLoss);
