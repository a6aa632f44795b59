using Pipelines.Components.Models;
using Pipelines.Components.Optimization;

namespace Pipelines.Components.Training;

/// <summary>
/// Fine-tunes an <see cref="EncoderClassifier"/>: the one <see cref="TrainingLoop"/> over padded batches of labelled
/// sequences (forward, check the loss, backward, check the gradients, update; evaluate, report progress and checkpoint on schedule).
/// </summary>
/// <remarks>
/// Step s always trains on the batch the <see cref="SequenceBatchSampler"/> chooses for s, and the optimizer state is
/// checkpointed with the weights (<see cref="TrainingCheckpoint"/>), so a run resumed from a checkpoint continues
/// bit-identically to one never interrupted (for the same thread count). The loss is the mean cross-entropy of the
/// batch. Example: <c>samples/SpamFineTune</c>.
/// </remarks>
public sealed class ClassifierTrainer
{
    private readonly EncoderClassifier model;
    private readonly IOptimizer optimizer;
    private readonly ClassifierTrainerOptions options;
    private readonly IReadOnlyList<ITrainingHook> hooks;

    /// <summary>Creates a trainer; the options are validated against the model's context.</summary>
    /// <param name="model">The classifier to train.</param>
    /// <param name="optimizer">The optimizer (its state is checkpointed with the weights).</param>
    /// <param name="options">Batch shape, length, evaluation and checkpoints.</param>
    /// <param name="hooks">Code that takes part in every step (pruning, privacy, diagnostics), called in this order; their states are checkpointed.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option does not fit the model (see <see cref="ClassifierTrainerOptions.Validate"/>).</exception>
    public ClassifierTrainer(EncoderClassifier model, IOptimizer optimizer, ClassifierTrainerOptions options, IReadOnlyList<ITrainingHook>? hooks = null)
    {
        this.hooks = hooks ?? [];
        this.model = model ?? throw new ArgumentNullException(nameof(model));
        this.optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        this.options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate(model.Config.ContextLength);
    }

    /// <summary>
    /// Trains on <paramref name="training"/>, evaluating on <paramref name="validation"/> (may be null). With
    /// <paramref name="resumeFrom"/>, first restores that checkpoint and continues from its step.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A token id is outside the vocabulary or a label outside the classes (the example is named).</exception>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became non-finite.</exception>
    /// <exception cref="RunChangedException">The checkpoint was trained under a different run (see <see cref="ClassifierTrainerOptions.AcceptedChanges"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (a checkpoint is written first when checkpointing is on).</exception>
    /// <exception cref="ArgumentException"><paramref name="exampleWeights"/> is not one finite, non-negative weight per training example.</exception>
    /// <param name="training">The labelled sequences to train on.</param>
    /// <param name="validation">The labelled sequences to evaluate on, or null.</param>
    /// <param name="progress">Receives a report after every step.</param>
    /// <param name="resumeFrom">A checkpoint to continue from, or null.</param>
    /// <param name="cancellationToken">Stops the run between steps.</param>
    /// <param name="exampleWeights">Per-example loss weights (one per training example; null = all equal): the batch loss becomes <c>Σ wᵢ·ℓᵢ / Σ wᵢ</c> (<see cref="ExampleWeighting"/>).</param>
    public ClassifierTrainingResult Train(LabeledSequences training, LabeledSequences? validation, IProgress<TrainingProgress>? progress = null,
        string? resumeFrom = null, CancellationToken cancellationToken = default, float[]? exampleWeights = null)
    {
        ArgumentNullException.ThrowIfNull(training);
        ExampleWeighting.Check(exampleWeights, training.Count, nameof(exampleWeights));

        training.CheckFits(model.Config, model.ClassCount, nameof(training));
        validation?.CheckFits(model.Config, model.ClassCount, nameof(validation));
        var task = new ClassifierTask(model, options, training, validation, exampleWeights);
        var loop = new TrainingLoop(task, new ArenaTrainingState(model.Parameters, optimizer, hooks) { Parallelism = model.Parallelism }, options.Loop);
        var result = loop.Run(RunRecord.ForClassifier(model.Config, model.ClassCount, options, optimizer, training, exampleWeights), progress, resumeFrom, cancellationToken);
        var finalValidation = task.LatestValidation;
        if (validation is not null && finalValidation is null) finalValidation = Evaluate(validation); // resumed at the last step
        return new ClassifierTrainingResult(result.Steps, result.History, finalValidation, result.StepsThisRun);
    }

    /// <summary>Mean cross-entropy and accuracy of the model over every example of <paramref name="data"/>, in order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A token id is outside the vocabulary or a label outside the classes.</exception>
    public ClassifierEvaluation Evaluate(LabeledSequences data)
    {
        ArgumentNullException.ThrowIfNull(data);
        data.CheckFits(model.Config, model.ClassCount, nameof(data));
        return ClassifierTask.Evaluate(model, options, data);
    }

    /// <summary>
    /// Writes the class probabilities of one sequence into <paramref name="probabilities"/> [K], cutting it to
    /// <paramref name="maximumLength"/> tokens as training does.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="tokens"/> is empty, or <paramref name="probabilities"/> is not K long.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token id is outside the vocabulary, or <paramref name="maximumLength"/> is outside [1, context].</exception>
    public static void Predict(EncoderClassifier model, ReadOnlySpan<int> tokens, int maximumLength, Span<float> probabilities)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (tokens.IsEmpty) throw new ArgumentException("The sequence is empty: the encoder needs at least one token to pool.", nameof(tokens));
        if (maximumLength < 1 || maximumLength > model.Config.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(maximumLength), maximumLength, $"Must be between 1 and the model's context ({model.Config.ContextLength}).");
        if (probabilities.Length != model.ClassCount)
            throw new ArgumentException($"'{nameof(probabilities)}' has {probabilities.Length} elements; the model has {model.ClassCount} classes.", nameof(probabilities));
        var kept = tokens[..Math.Min(tokens.Length, maximumLength)];
        model.Forward(kept, ReadOnlySpan<byte>.Empty, ReadOnlySpan<int>.Empty, 1, kept.Length);
        model.Probabilities.CopyTo(probabilities);
    }

    /// <summary>The index of the largest value (the first one on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var index = 1; index < values.Length; index++)
        {
            if (values[index] > values[best]) best = index;
        }

        return best;
    }
}

/// <summary>How well a classifier does on a labelled set.</summary>
/// <param name="Loss">Mean cross-entropy per example (nats).</param>
/// <param name="Accuracy">Fraction of examples whose most probable class is the label.</param>
public sealed record ClassifierEvaluation(double Loss, double Accuracy);

/// <summary>What a fine-tuning run ended with.</summary>
/// <param name="Steps">Updates completed in all (restored ones included after a resume).</param>
/// <param name="History">Per-step metrics of the whole run (restored ones included after a resume).</param>
/// <param name="FinalValidation">The validation evaluation after the last step, if validation data was given.</param>
/// <param name="StepsThisRun">Updates made by this call (fewer than <paramref name="Steps"/> after a resume).</param>
public sealed record ClassifierTrainingResult(long Steps, IReadOnlyList<StepMetrics> History, ClassifierEvaluation? FinalValidation, long StepsThisRun);
