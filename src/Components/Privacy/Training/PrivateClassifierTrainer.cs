using System.Diagnostics;
using System.Globalization;
using Pipelines.Components.Lora;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Training;

namespace Pipelines.Components.Privacy;

/// <summary>
/// Fine-tunes an <see cref="EncoderClassifier"/> with DP-SGD under an (epsilon, delta) budget: the private variant of
/// <see cref="ClassifierTrainer"/> (same options, same checkpoints, same progress reports, with epsilon in each).
/// </summary>
/// <remarks>
/// <para>
/// Abadi et al. 2016 (arXiv 1607.00133): step s samples a Poisson batch (rate q), clips each example's gradient,
/// sums, adds <c>N(0, (sigma C)^2)</c>, divides by q N and hands the result to the optimizer chain
/// (<see cref="DifferentiallyPrivateStep"/>); the RDP accountant (Mironov 2017, arXiv 1702.07476) is stepped once per
/// update. Before training the set-up is validated (<see cref="DifferentialPrivacyValidator"/>) and the first step is
/// the canary (<see cref="DifferentialPrivacyCanary"/>). A step that would take epsilon above the target is not taken
/// (the run stops there, or throws). The accountant's history, the current clipping norms and noise and the
/// controller's state are checkpointed, and the run record holds the privacy settings, so a resume under other settings
/// is refused. Reported losses are those of the sampled batches: not private, report them but do not publish them.
/// </para>
/// <para>Example: <c>samples/PrivateFineTune</c>.</para>
/// </remarks>
public sealed class PrivateClassifierTrainer
{
    private readonly EncoderClassifier model;
    private readonly IGradientTransform optimizer;
    private readonly ClassifierTrainerOptions options;
    private readonly DifferentialPrivacy privacy;

    /// <summary>Creates the trainer; the options are checked against the model's context and the privacy settings' seed against their randomness.</summary>
    /// <param name="model">The classifier to train (managed engine).</param>
    /// <param name="optimizer">The optimizer chain applied to the privatised gradient (with its schedule), e.g. AdamW.</param>
    /// <param name="options">Batch size (the expected one: q = B / N unless the privacy settings give q), steps, evaluation, checkpoints; the sampling mode is replaced by Poisson sampling.</param>
    /// <param name="privacy">The privacy settings.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option does not fit the model.</exception>
    /// <exception cref="ArgumentException">A seed with secure noise, or none with seeded noise.</exception>
    public PrivateClassifierTrainer(EncoderClassifier model, IGradientTransform optimizer, ClassifierTrainerOptions options, DifferentialPrivacy privacy)
    {
        this.model = model ?? throw new ArgumentNullException(nameof(model));
        this.optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        this.options = options ?? throw new ArgumentNullException(nameof(options));
        this.privacy = privacy ?? throw new ArgumentNullException(nameof(privacy));
        options.Validate(model.Config.ContextLength);
        privacy.Validate();
    }

    /// <summary>
    /// A LoRA adapter attached to the model (through a <see cref="LoraModel"/> that leaves only the head trainable) to
    /// train privately with the trainable base parameters: its A and B join each example's norm and get the same noise
    /// (<see cref="PrivateLoraClipping"/>). Null for plain DP-SGD.
    /// </summary>
    internal LoraAdapter? Adapter { get; init; }

    /// <summary>Trains on <paramref name="training"/> within the budget, evaluating on <paramref name="validation"/> (may be null).</summary>
    /// <param name="training">The private labelled sequences (N = their count).</param>
    /// <param name="validation">Labelled sequences to evaluate on (and, for RLDP, to reward on), or null.</param>
    /// <param name="progress">Receives a report after every step, with the epsilon spent.</param>
    /// <param name="resumeFrom">A checkpoint of this run to continue from, or null.</param>
    /// <param name="cancellationToken">Stops the run between steps (a checkpoint is written first when checkpointing is on).</param>
    /// <exception cref="ArgumentOutOfRangeException">delta is not below 1/N, q = B/N is above 1, or the data do not fit the model.</exception>
    /// <exception cref="InvalidOperationException">The model has trainable parameters without per-example support, or the canary failed.</exception>
    /// <exception cref="PrivacyBudgetExhaustedException">The settings say Throw and the next step would exceed the budget.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a per-example norm became non-finite (the step is named).</exception>
    /// <exception cref="RunChangedException">The checkpoint was trained under a different run or other privacy settings.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public PrivateClassifierTrainingResult Train(LabeledSequences training, LabeledSequences? validation, IProgress<TrainingProgress>? progress = null,
        string? resumeFrom = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        training.CheckFits(model.Config, model.ClassCount, nameof(training));
        validation?.CheckFits(model.Config, model.ClassCount, nameof(validation));
        var samplingRate = privacy.ResolveSamplingRate(training.Count, options.BatchSize);
        DifferentialPrivacyValidator.Validate(model, new DifferentialPrivacyPlan());
        var baseNoise = privacy.NoiseMultiplier ?? NoiseCalibration.NoiseMultiplier(
            privacy.TargetEpsilon, privacy.Delta, samplingRate, options.Steps, conversion: privacy.Conversion, datasetSize: training.Count);
        var layers = model.Config.LayerCount;
        var control = privacy.Controller.Start(PrivateClippingGroups.Count(privacy.Clipping, layers), options.Seed ^ 0x524C4450UL);
        var state = new PrivacyRunState(control)
        {
            ClipNorms = PrivateClippingGroups.InitialClipNorms(privacy.Clipping, layers, privacy.ClipNorm),
            NoiseMultiplier = baseNoise,
        };
        var maximumLength = options.MaximumSequenceLength; // cut as the non-private batches are
        var cut = new LabeledSequences([.. training.Sequences.Select(sequence => sequence.Length > maximumLength ? sequence[..maximumLength] : sequence)], training.Labels);
        var run = new Run(this, cut, samplingRate, state);
        ITrainingHook[] checkpointed = Adapter is null ? [state] : [state, new PrivateLoraRunState(Adapter, () => run.Step.Adapter!.Optimizer)];
        var record = RunRecordWithPrivacy(training, samplingRate, baseNoise);
        var history = new List<StepMetrics>();
        long startStep = 0;
        if (resumeFrom is not null)
        {
            (startStep, history) = TrainingCheckpoint.Read(resumeFrom, model.Parameters, run.Step.Optimizer, checkpointed, record, options.AcceptedChanges);
            run.Rebuild(state.Accountant);
        }

        var clock = Stopwatch.StartNew();
        long tokensSeen = 0;
        double? latestValidation = history.LastOrDefault(metrics => metrics.ValidationLoss.HasValue)?.ValidationLoss;
        ClassifierEvaluation? finalValidation = null;
        var stoppedByBudget = false;
        var canaryPending = resumeFrom is null;

        void Record(DifferentiallyPrivateStepReport report, double learningRate, double loss)
        {
            var step = report.Step;
            if (!report.NormsAreFinite) throw new TrainingDivergedException(step - 1, "per-example gradient norms", double.NaN);
            if (report.BatchSize > 0) TrainingGuard.CheckLoss(step - 1, loss);
            double? validationLoss = null;
            if (validation is not null && options.Loop.EvaluatesAfter(step))
            {
                finalValidation = ClassifierTask.Evaluate(model, options, validation);
                latestValidation = validationLoss = finalValidation.Loss;
            }

            history.Add(new StepMetrics(step, loss, learningRate, validationLoss));
            if (options.Loop.CheckpointsAfter(step)) WriteCheckpoint(run, history, record, checkpointed);
            var seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            progress?.Report(new TrainingProgress(step, options.Steps, (double)step * samplingRate, loss, learningRate, tokensSeen / seconds, clock.Elapsed,
                latestValidation, report.Epsilon));
        }

        while (run.Step.Optimizer.StepCount < options.Steps)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                if (options.CheckpointInterval > 0) WriteCheckpoint(run, history, record, checkpointed);
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (!canaryPending) run.ActIfDue(options.Steps, validation);
            var learningRate = run.Step.Optimizer.CurrentLearningRate;
            run.Source.ResetStep();
            var adapterBefore = canaryPending ? Adapter?.Parameters.Values.ToArray() : null;
            IReadOnlyList<DifferentiallyPrivateStepReport> reports = canaryPending
                ? DifferentialPrivacyCanary.Run(run.Step, model.IsTrainable)
                : [run.Step.Run()];
            if (adapterBefore is not null) PrivateLoraCanary.Check(Adapter!, adapterBefore, state.NoiseMultiplier);
            canaryPending = false;
            if (reports[^1].BudgetExhausted)
            {
                stoppedByBudget = true;
                break;
            }

            foreach (var report in reports)
            {
                tokensSeen += report == reports[^1] ? run.Source.TokensThisStep : 0;
                Record(report, learningRate, report.BatchSize == 0 ? double.NaN : run.Source.LossSum / run.Source.ExamplesThisStep);
            }
        }

        if (validation is not null && finalValidation is null) finalValidation = ClassifierTask.Evaluate(model, options, validation);
        var spent = run.Step.PrivacySpent();
        var guarantee = new PrivacyGuarantee(spent.Epsilon, spent.Delta, privacy.TargetEpsilon, run.Step.Accountant.TotalSteps, samplingRate,
            state.NoiseMultiplier, [.. state.ClipNorms], privacy.Conversion, privacy.Controller.ToString(), stoppedByBudget);
        var steps = run.Step.Optimizer.StepCount;
        return new PrivateClassifierTrainingResult(new ClassifierTrainingResult(steps, history, finalValidation, steps - startStep), guarantee);
    }

    private void WriteCheckpoint(Run run, IReadOnlyList<StepMetrics> history, RunRecord record, IReadOnlyList<ITrainingHook> checkpointed)
    {
        run.State.Accountant = run.Step.Accountant;
        TrainingCheckpoint.Write(options.CheckpointPath!, run.Step.Optimizer.StepCount, model.Parameters, run.Step.Optimizer, history, checkpointed, record);
    }

    /// <summary>The classifier's record plus every privacy setting (kind <see cref="RunChanges.Optimizer"/>: DP is part of the update rule).</summary>
    private RunRecord RunRecordWithPrivacy(LabeledSequences training, double samplingRate, double baseNoise)
    {
        var plain = RunRecord.ForClassifier(model.Config, model.ClassCount, options with { Sampling = Training.BatchSampling.ShuffledEpochs }, optimizer, training);
        string Text(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
        RunRecordEntry Entry(string name, string value) => new("privacy." + name, RunChanges.Optimizer, value);
        return new RunRecord(plain.Entries.Where(entry => entry.Name != "training.Sampling").Concat(
        [
            new RunRecordEntry("training.Sampling", RunChanges.Seed, "Poisson"),
            Entry("TargetEpsilon", Text($"{privacy.TargetEpsilon:R}")),
            Entry("Delta", Text($"{privacy.Delta:R}")),
            Entry("ClipNorm", Text($"{privacy.ClipNorm:R}")),
            Entry("Clipping", privacy.Clipping.ToString()),
            Entry("NoiseMultiplier", privacy.NoiseMultiplier is null ? Text($"calibrated: {baseNoise:R}") : Text($"{baseNoise:R}")),
            Entry("SamplingRate", Text($"{samplingRate:R}")),
            Entry("OnExhausted", privacy.OnExhausted.ToString()),
            Entry("Randomness", privacy.Randomness.ToString()),
            Entry("Seed", privacy.Seed?.ToString(CultureInfo.InvariantCulture) ?? "none"),
            Entry("Conversion", privacy.Conversion.ToString()),
            Entry("MaximumChunkSize", privacy.MaximumChunkSize.ToString(CultureInfo.InvariantCulture)),
            Entry("Controller", privacy.Controller.ToString()),
        ]).Concat(Adapter is null ? [] : [Entry("Adaptation", string.Join(" ", Adapter.Plan.ToJson().Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries)))]));
    }

    /// <summary>The DP step of the run and what it is rebuilt from when a controller changes the clipping norms or the noise.</summary>
    private sealed class Run
    {
        private readonly PrivateClassifierTrainer trainer;
        private readonly LabeledSequences training;
        private readonly double samplingRate;
        private readonly IPrivacyControl? control;
        private readonly double baseNoise;
        private readonly double[] baseClipNorms;

        public Run(PrivateClassifierTrainer trainer, LabeledSequences training, double samplingRate, PrivacyRunState state)
        {
            (this.trainer, this.training, this.samplingRate, State) = (trainer, training, samplingRate, state);
            control = state.Control;
            baseNoise = state.NoiseMultiplier;
            baseClipNorms = [.. state.ClipNorms];
            (Step, Source) = Build(state.Accountant, previous: null);
        }

        public PrivacyRunState State { get; }

        public DifferentiallyPrivateStep Step { get; private set; }

        public RecordingClippedGradients Source { get; private set; }

        /// <summary>A new step over the state's norms and noise, continuing <paramref name="accountant"/> and the current optimizer state.</summary>
        public void Rebuild(RdpAccountant accountant) => (Step, Source) = Build(accountant, Step);

        /// <summary>Lets the controller act when its interval has come: its proposal, with the noise raised as far as the budget needs.</summary>
        public void ActIfDue(long totalSteps, LabeledSequences? validation)
        {
            var done = Step.Optimizer.StepCount;
            if (control is null || done == 0 || done % control.Interval != 0 || done >= totalSteps) return;
            var privacy = trainer.privacy;
            var statistics = State.Statistics;
            var loss = validation is not null
                ? ClassifierTask.Evaluate(trainer.model, trainer.options, validation).Loss
                : statistics.MeanLoss;
            var observation = new PrivacyObservation(done, totalSteps, Step.PrivacySpent().Epsilon, privacy.TargetEpsilon, [.. State.ClipNorms],
                baseClipNorms, State.NoiseMultiplier, baseNoise, statistics.GroupNormMedians(State.ClipNorms.Length), statistics.ClippedFraction, loss);
            var action = control.Act(observation);
            if (action.ClipNorms.Count != State.ClipNorms.Length)
                throw new InvalidOperationException($"The controller proposed {action.ClipNorms.Count} clipping norms for {State.ClipNorms.Length} groups.");
            for (var group = 0; group < action.ClipNorms.Count; group++) PrivacyGuard.ClipNorm(action.ClipNorms[group], $"ClipNorms[{group}]");
            State.ClipNorms = [.. action.ClipNorms];
            State.NoiseMultiplier = ContractNoise(action.NoiseMultiplier, totalSteps - done);
            statistics.Reset();
            Rebuild(Step.Accountant);
        }

        /// <summary>The proposed sigma, raised so that the remaining steps at it keep epsilon within the target.</summary>
        private double ContractNoise(double proposed, long remainingSteps)
        {
            var privacy = trainer.privacy;
            proposed = double.IsFinite(proposed) && proposed >= 0 ? proposed : NoiseCalibration.MaximumNoiseMultiplier;
            try
            {
                return NoiseCalibration.EnforceBudget(proposed, Step.Accountant, remainingSteps, samplingRate, privacy.TargetEpsilon, privacy.Delta, privacy.Conversion);
            }
            catch (ArgumentOutOfRangeException)
            {
                // The remaining steps cannot all fit at any noise: the largest noise, and the step's own check stops the run at the budget.
                return NoiseCalibration.MaximumNoiseMultiplier;
            }
        }

        private (DifferentiallyPrivateStep Step, RecordingClippedGradients Source) Build(RdpAccountant accountant, DifferentiallyPrivateStep? previous)
        {
            var privacy = trainer.privacy;
            var model = trainer.model;
            var groups = PrivateClippingGroups.Create(privacy.Clipping, model.Config.LayerCount, State.ClipNorms);
            var adapter = trainer.Adapter is { } attached ? new PrivateLoraClipping(attached, groups) : null;
            var source = new RecordingClippedGradients(model, new EncoderPerExampleClipping(model, groups, training, adapter), training, State.Statistics);
            var options = new DifferentialPrivacyOptions(samplingRate)
            {
                NoiseMultiplier = State.NoiseMultiplier * Math.Sqrt(groups.Count), // accounted as (sum_g sigma_g^-2)^(-1/2) = State.NoiseMultiplier
                Delta = privacy.Delta,
                Randomness = privacy.Randomness,
                Seed = privacy.Seed,
                Conversion = privacy.Conversion,
            };
            var step = new DifferentiallyPrivateStep(source, options, trainer.optimizer, new PrivacyBudget(privacy.TargetEpsilon, privacy.Delta, privacy.OnExhausted),
                accountant, privacy.MaximumChunkSize)
            {
                Adapter = adapter is null ? null : PrivateLoraCanary.Update(adapter, groups, options, training.Count, trainer.optimizer),
            };
            if (previous is not null)
            {
                CopyState(previous.Optimizer, step.Optimizer);
                if (previous.Adapter is not null) CopyState(previous.Adapter.Optimizer, step.Adapter!.Optimizer);
            }

            State.Accountant = step.Accountant;
            return (step, source);
        }

        private static void CopyState(GradientTransformOptimizer from, GradientTransformOptimizer to)
        {
            using var buffer = new MemoryStream();
            using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) from.SaveState(writer);
            buffer.Position = 0;
            using var reader = new BinaryReader(buffer);
            to.LoadState(reader);
        }
    }
}

/// <summary>What a private fine-tuning run ended with.</summary>
/// <param name="Training">Steps, loss history and final validation, as a non-private run reports them.</param>
/// <param name="Privacy">The (epsilon, delta) spent and the settings it was accounted under.</param>
public sealed record PrivateClassifierTrainingResult(ClassifierTrainingResult Training, PrivacyGuarantee Privacy);
