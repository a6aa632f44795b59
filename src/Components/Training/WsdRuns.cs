using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Serialization;

namespace Pipelines.Components.Training;

/// <summary>
/// Pre-training runs with warmup-stable-decay plans: an open-ended stable run continued at will, decays branched
/// from its checkpoints into separate models, and WSD-S runs that save one decayed model per budget.
/// </summary>
/// <remarks>
/// WSD and branching: MiniCPM, arXiv 2404.06395; WSD-S: arXiv 2410.05192. Every run keeps its plan in its
/// checkpoint through a <see cref="ScheduleLayoutHook"/>, so resuming under a changed plan is refused unless the
/// change is passed on purpose as <c>acceptedChangeFrom</c> (see the hook). One instance holds what all runs
/// share: how to make a model and an optimizer, the batch shape and evaluation settings, and the tokens.
/// The training options' <see cref="LanguageModelTrainingOptions.Steps"/> and checkpoint path are set per call.
/// <example><code>
/// var runs = new WsdRuns(() =&gt; GptModel.Create(config, seed: 1, threads), lr =&gt; Optimizers.AdamW(lr), training, train, validation);
/// var stable = WarmupStableDecaySchedule.OpenEnded(1e-3, warmupSteps: 100, decaySteps: 200);
/// runs.RunMain(stable, untilStep: 2_000, "runs/main.ckpt");                            // (a) no budget fixed
/// runs.BranchDecay(stable, "runs/main.ckpt", decaySteps: 200, "runs/budget-2200.safetensors"); // (b)
/// runs.RunMain(stable, untilStep: 4_000, "runs/main.ckpt");                            // the stable run goes on
/// runs.RunWsds(new WsdsPlan(1e-3, [1_000, 2_000, 4_000], 0.1), 4_000, "runs/wsds.ckpt", "runs/wsds"); // (c)
/// </code></example>
/// </remarks>
public sealed class WsdRuns
{
    private readonly Func<ICausalLanguageModel> createModel;
    private readonly Func<ISchedule, IGradientTransform> createTransform;
    private readonly LanguageModelTrainingOptions training;
    private readonly int[] trainingTokens;
    private readonly int[]? validationTokens;

    /// <summary>Creates the helper.</summary>
    /// <param name="createModel">Makes a fresh model (initialised; a resumed run overwrites its weights from the checkpoint).</param>
    /// <param name="createTransform">Makes the optimizer's transform for a learning-rate schedule, e.g. <c>lr =&gt; Optimizers.AdamW(lr)</c>.</param>
    /// <param name="training">Batch shape, evaluation, sampler seed and checkpoint interval (steps and path are set per call).</param>
    /// <param name="trainingTokens">The training token stream.</param>
    /// <param name="validationTokens">The validation token stream, or null.</param>
    public WsdRuns(Func<ICausalLanguageModel> createModel, Func<ISchedule, IGradientTransform> createTransform,
        LanguageModelTrainingOptions training, int[] trainingTokens, int[]? validationTokens = null)
    {
        this.createModel = OptionGuard.NotNull(createModel, nameof(createModel));
        this.createTransform = OptionGuard.NotNull(createTransform, nameof(createTransform));
        this.training = OptionGuard.NotNull(training, nameof(training));
        this.trainingTokens = OptionGuard.NotNull(trainingTokens, nameof(trainingTokens));
        this.validationTokens = validationTokens;
    }

    /// <summary>
    /// (a) Trains the main run of <paramref name="schedule"/> (usually open-ended, so no budget is fixed) until
    /// <paramref name="untilStep"/> updates, resuming from <paramref name="checkpointPath"/> when that file exists,
    /// and leaves the checkpoint there at the end (also every <see cref="LanguageModelTrainingOptions.CheckpointInterval"/> steps).
    /// </summary>
    /// <param name="schedule">The run's plan; also how it finishes, e.g. <c>stable.StartDecayAt(s)</c> with <paramref name="acceptedChangeFrom"/>.</param>
    /// <param name="untilStep">Updates the run has done when this returns (&gt;= 1).</param>
    /// <param name="checkpointPath">The run's checkpoint.</param>
    /// <param name="acceptedChangeFrom">The stored plan when <paramref name="schedule"/> was derived from it on purpose (see <see cref="ScheduleLayoutHook"/>).</param>
    /// <param name="progress">Told after every step.</param>
    /// <param name="cancellationToken">Stops the run (a checkpoint is written first).</param>
    /// <exception cref="InvalidDataException">The checkpoint's plan differs from <paramref name="schedule"/> and the change is not accepted.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="untilStep"/> is below 1.</exception>
    public WsdRunResult RunMain(WarmupStableDecaySchedule schedule, long untilStep, string checkpointPath,
        WarmupStableDecaySchedule? acceptedChangeFrom = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentOutOfRangeException.ThrowIfLessThan(untilStep, 1);
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpointPath);
        return TrainWithCheckpoint(schedule, [new ScheduleLayoutHook(schedule, acceptedChangeFrom)], untilStep, checkpointPath, progress, cancellationToken);
    }

    /// <summary>
    /// (b) Branches a decay of <paramref name="decaySteps"/> steps from the stable checkpoint at
    /// <paramref name="stableCheckpointPath"/> into a separate model saved at <paramref name="modelPath"/>
    /// (safetensors); the main run's checkpoint is only read.
    /// </summary>
    /// <param name="stableSchedule">The main run's plan (checked against the checkpoint's).</param>
    /// <param name="stableCheckpointPath">A checkpoint of the main run, in its stable phase.</param>
    /// <param name="decaySteps">The branch's decay length (&gt;= 1); the branch ends at the checkpoint's step plus this.</param>
    /// <param name="modelPath">Where the decayed model's weights go.</param>
    /// <param name="branchCheckpointPath">Where the branch's own training checkpoint goes (for resuming it); null: none.</param>
    /// <param name="progress">Told after every step.</param>
    /// <param name="cancellationToken">Stops the branch.</param>
    /// <exception cref="FileNotFoundException">No stable checkpoint.</exception>
    /// <exception cref="InvalidDataException">The checkpoint's plan is not <paramref name="stableSchedule"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The checkpoint is not in the stable phase, or <paramref name="decaySteps"/> is below 1.</exception>
    public WsdRunResult BranchDecay(WarmupStableDecaySchedule stableSchedule, string stableCheckpointPath, long decaySteps, string modelPath,
        string? branchCheckpointPath = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stableSchedule);
        ArgumentException.ThrowIfNullOrWhiteSpace(stableCheckpointPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        ArgumentOutOfRangeException.ThrowIfLessThan(decaySteps, 1);
        if (!File.Exists(stableCheckpointPath)) throw new FileNotFoundException("The stable checkpoint to branch from does not exist.", stableCheckpointPath);

        // The branch's schedule depends on the checkpoint's step: read it once under the stable plan (which also
        // checks the plan), then let the trainer resume under the branch plan, a change accepted on purpose.
        var model = createModel();
        var stableOptimizer = new GradientTransformOptimizer(createTransform(stableSchedule), model.Parameters, LanguageModelTrainer.ThreadsOf(model));
        var (fromStep, _) = TrainingCheckpoint.Read(stableCheckpointPath, model.Parameters, stableOptimizer, [new ScheduleLayoutHook(stableSchedule)],
            RunRecord.ForLanguageModel(model.Config, training, stableOptimizer, trainingTokens), training.AcceptedChanges);
        var branch = stableSchedule.BranchDecay(fromStep, decaySteps);

        var optimizer = new GradientTransformOptimizer(createTransform(branch), model.Parameters, LanguageModelTrainer.ThreadsOf(model));
        var hooks = new ITrainingHook[] { new ScheduleLayoutHook(branch, acceptedChangeFrom: stableSchedule) };
        var options = training with
        {
            Steps = fromStep + decaySteps,
            CheckpointPath = branchCheckpointPath,
            CheckpointInterval = branchCheckpointPath is null ? 0 : training.CheckpointInterval,
        };
        var result = new LanguageModelTrainer(model, optimizer, options, hooks)
            .Train(trainingTokens, validationTokens, progress, stableCheckpointPath, cancellationToken);
        if (branchCheckpointPath is not null)
            TrainingCheckpoint.Write(branchCheckpointPath, result.Steps, model.Parameters, optimizer, result.History, hooks, RunRecord.ForLanguageModel(model.Config, options, optimizer, trainingTokens));

        var directory = Path.GetDirectoryName(Path.GetFullPath(modelPath));
        if (directory is not null) Directory.CreateDirectory(directory);
        model.Parameters.SaveSafeTensors(modelPath, new Dictionary<string, string>
        {
            ["pipelines.step"] = result.Steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["pipelines.plan"] = branch.ToJson(),
        });
        return new WsdRunResult(result.Steps, result.History, result.FinalValidationLoss, branch, branchCheckpointPath, [modelPath]);
    }

    /// <summary>
    /// (c) Trains a WSD-S run until <paramref name="untilStep"/> updates, resuming from <paramref name="checkpointPath"/>
    /// when it exists: at each budget the decayed model is saved to <paramref name="decayedModelDirectory"/> and
    /// the main branch goes on from those weights at the peak (<see cref="WsdsPlan"/>, <see cref="DecayedCheckpointHook"/>).
    /// </summary>
    /// <param name="plan">The budgets and decays.</param>
    /// <param name="untilStep">Updates the run has done when this returns (&gt;= 1); usually the last budget.</param>
    /// <param name="checkpointPath">The main branch's checkpoint.</param>
    /// <param name="decayedModelDirectory">Where the decayed models go, as <c>decayed-step{T}.safetensors</c>.</param>
    /// <param name="acceptedChangeFrom">The stored plan when <paramref name="plan"/> was derived from it on purpose, e.g. by <see cref="WsdsPlan.AddBudget"/>.</param>
    /// <param name="progress">Told after every step.</param>
    /// <param name="cancellationToken">Stops the run (a checkpoint is written first).</param>
    /// <exception cref="InvalidDataException">The checkpoint's plan differs from <paramref name="plan"/> and the change is not accepted.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="untilStep"/> is below 1.</exception>
    public WsdRunResult RunWsds(WsdsPlan plan, long untilStep, string checkpointPath, string decayedModelDirectory,
        WsdsPlan? acceptedChangeFrom = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentOutOfRangeException.ThrowIfLessThan(untilStep, 1);
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpointPath);
        var decayed = new DecayedCheckpointHook(plan, decayedModelDirectory);
        var result = TrainWithCheckpoint(plan, [new ScheduleLayoutHook(plan, acceptedChangeFrom), decayed], untilStep, checkpointPath, progress, cancellationToken);
        return result with { ModelPaths = [.. decayed.SavedPaths] };
    }

    private WsdRunResult TrainWithCheckpoint(ISchedule schedule, ITrainingHook[] hooks, long untilStep, string checkpointPath,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var model = createModel();
        var optimizer = new GradientTransformOptimizer(createTransform(schedule), model.Parameters, LanguageModelTrainer.ThreadsOf(model));
        var options = training with { Steps = untilStep, CheckpointPath = checkpointPath };
        var resumeFrom = File.Exists(checkpointPath) ? checkpointPath : null;
        var result = new LanguageModelTrainer(model, optimizer, options, hooks).Train(trainingTokens, validationTokens, progress, resumeFrom, cancellationToken);
        // Written even when the interval just did: the run must end with a checkpoint of its last step.
        TrainingCheckpoint.Write(checkpointPath, result.Steps, model.Parameters, optimizer, result.History, hooks, RunRecord.ForLanguageModel(model.Config, options, optimizer, trainingTokens));
        return new WsdRunResult(result.Steps, result.History, result.FinalValidationLoss, schedule, checkpointPath, []);
    }
}

/// <summary>What a <see cref="WsdRuns"/> call ended with.</summary>
/// <param name="Steps">Updates done.</param>
/// <param name="History">Per-step metrics of the whole run, the stable part a branch started from included.</param>
/// <param name="FinalValidationLoss">The last validation loss, if any evaluation ran.</param>
/// <param name="Schedule">The plan trained under (for a branch: the branch's own).</param>
/// <param name="CheckpointPath">The training checkpoint left at the end, if any.</param>
/// <param name="ModelPaths">Model weights written (safetensors): the branch's model, or every decayed model of a WSD-S run so far.</param>
public sealed record WsdRunResult(long Steps, IReadOnlyList<StepMetrics> History, double? FinalValidationLoss, ISchedule Schedule,
    string? CheckpointPath, IReadOnlyList<string> ModelPaths);
