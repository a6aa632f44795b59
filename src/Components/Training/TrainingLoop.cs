using System.Diagnostics;

namespace Pipelines.Components.Training;

/// <summary>
/// The one training loop: for each step, load the batch, forward, check the loss, backward, check the gradients, run the
/// hooks around the optimizer's update; validate, record, checkpoint and report progress on schedule.
/// </summary>
/// <remarks>
/// <para>Step s always trains on the batch the task loads for s, and the optimizer's and hooks' states are checkpointed
/// with the weights and the run's <see cref="RunRecord"/> (<see cref="ITrainingState.WriteCheckpoint"/>), so a run resumed from a
/// checkpoint continues bit-identically to one never interrupted (for the same thread count), and a resume under a
/// different run is refused (<see cref="RunChangedException"/>).</para>
/// <para>Used by <see cref="LanguageModelTrainer"/> and <see cref="ClassifierTrainer"/> on the managed engine and by the
/// TorchSharp backend; a new task needs only an <see cref="ITrainingTask"/>, a new backend an <see cref="ITrainingState"/>.</para>
/// </remarks>
public sealed class TrainingLoop
{
    private readonly ITrainingTask task;
    private readonly ITrainingState state;
    private readonly TrainingLoopOptions options;

    /// <summary>Creates a loop over <paramref name="task"/>.</summary>
    /// <param name="task">The batches and the model.</param>
    /// <param name="state">The parameters and the optimizer (with hooks) that updates them; for the managed engine an <see cref="ArenaTrainingState"/>.</param>
    /// <param name="options">Length, evaluation and checkpoint schedule.</param>
    /// <exception cref="ArgumentOutOfRangeException">A checkpoint interval is set without a path, or a count is negative.</exception>
    public TrainingLoop(ITrainingTask task, ITrainingState state, TrainingLoopOptions options)
    {
        this.task = task ?? throw new ArgumentNullException(nameof(task));
        this.state = state ?? throw new ArgumentNullException(nameof(state));
        this.options = options ?? throw new ArgumentNullException(nameof(options));
        if (options.Steps < 0) throw new ArgumentOutOfRangeException(nameof(options), options.Steps, "Steps must not be negative.");
        if (options.EvaluationInterval < 0) throw new ArgumentOutOfRangeException(nameof(options), options.EvaluationInterval, "EvaluationInterval must not be negative.");
        if (options.CheckpointInterval < 0) throw new ArgumentOutOfRangeException(nameof(options), options.CheckpointInterval, "CheckpointInterval must not be negative.");
        if (options.CheckpointInterval > 0 && string.IsNullOrWhiteSpace(options.CheckpointPath))
            throw new ArgumentOutOfRangeException(nameof(options), options.CheckpointPath, "A checkpoint interval needs a checkpoint path.");
    }

    /// <summary>
    /// Trains until <see cref="TrainingLoopOptions.Steps"/> updates are done. With <paramref name="resumeFrom"/>, first
    /// restores that checkpoint (after comparing its run with <paramref name="run"/>) and continues from its step.
    /// </summary>
    /// <param name="run">This run's record, written into checkpoints and compared with a resumed one's.</param>
    /// <param name="progress">Receives a report after every step.</param>
    /// <param name="resumeFrom">A checkpoint to continue from, or null.</param>
    /// <param name="cancellationToken">Stops the run between steps (a checkpoint is written first when checkpointing is on).</param>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became non-finite (the step is named).</exception>
    /// <exception cref="RunChangedException">The checkpoint was trained under a different run.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingLoopResult Run(RunRecord run, IProgress<TrainingProgress>? progress = null, string? resumeFrom = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        var history = new List<StepMetrics>();
        long step = 0;
        if (resumeFrom is not null) (step, history) = state.ReadCheckpoint(resumeFrom, run, options.AcceptedChanges);

        var startStep = step;
        long tokensSeen = 0;
        var clock = Stopwatch.StartNew();
        double? latestValidation = history.LastOrDefault(record => record.ValidationLoss.HasValue)?.ValidationLoss;
        while (step < options.Steps)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                if (options.CheckpointInterval > 0) WriteCheckpoint(step, history, run);
                cancellationToken.ThrowIfCancellationRequested();
            }

            tokensSeen += task.LoadBatch(step);
            var learningRate = state.CurrentLearningRate;
            var loss = TrainStep(step);
            step++;

            double? validation = null;
            if (task.HasValidation && options.EvaluatesAfter(step)) latestValidation = validation = task.Validate();
            history.Add(new StepMetrics(step, loss, learningRate, validation));
            if (options.CheckpointsAfter(step)) WriteCheckpoint(step, history, run);
            var seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            progress?.Report(new TrainingProgress(step, options.Steps, task.Epochs(step), loss, learningRate, tokensSeen / seconds, clock.Elapsed, latestValidation));
        }

        return new TrainingLoopResult(step, history, latestValidation, step - startStep);
    }

    private double TrainStep(long step)
    {
        state.ZeroGradients();
        var loss = task.Forward();
        TrainingGuard.CheckLoss(step, loss);
        task.Backward();
        state.Update(step);
        return loss;
    }

    private void WriteCheckpoint(long step, IReadOnlyList<StepMetrics> history, RunRecord run) =>
        state.WriteCheckpoint(options.CheckpointPath!, step, history, run);
}

/// <summary>What a run of the <see cref="TrainingLoop"/> ended with.</summary>
/// <param name="Steps">Updates completed in all (restored ones included after a resume).</param>
/// <param name="History">Per-step metrics of the whole run (restored ones included after a resume).</param>
/// <param name="FinalValidationLoss">The last validation loss, if any evaluation ran (in this call or before the resumed checkpoint).</param>
/// <param name="StepsThisRun">Updates made by this call.</param>
public sealed record TrainingLoopResult(long Steps, IReadOnlyList<StepMetrics> History, double? FinalValidationLoss, long StepsThisRun);
