using Pipelines.Components.Backends;
using Microsoft.ML;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Training;

namespace Pipelines.Pretraining;

/// <summary>How <see cref="CausalLanguageModelEstimator"/> pre-trains a GPT: its shape, the run's length and shape, the optimizer, checkpoints.</summary>
/// <remarks>
/// Immutable. Each value is checked when it is set and the rules between values when the estimator is created; a bad
/// value throws <see cref="ArgumentOutOfRangeException"/> naming the option and the value. The only data here is
/// <see cref="ValidationSet"/>, as in ML.NET's own TorchSharp trainers; with it, <see cref="Progress"/> and
/// <see cref="CancellationToken"/>, a <c>Fit</c> of a whole estimator chain gets everything a training run needs.
/// <para>
/// <b>Vocabulary.</b> The token column is a vector of keys (<see cref="Text.TokenColumn"/>): the model's vocabulary is
/// the key count. The end-of-text id is <see cref="EndOfTextTokenId"/> when set, else the <see cref="EndOfTextToken"/>
/// of the tokenizer the column carries in its annotation (which survives stock transforms such as <c>CopyColumns</c>).
/// </para>
/// <para>
/// <b>Defaults.</b> A 2-layer, 4-head, 128-wide GPT with a 128-token context; batches of 8 × 128 tokens; AdamW
/// (β = 0.9, 0.95 as nanoGPT; weight decay 0.1 on matrices only) after global-norm clipping at 1.0
/// (Loshchilov &amp; Hutter, arXiv 1711.05101); a warmup-stable-decay schedule peaking at 1e-3 with 5% warm-up and a
/// linear decay to 0 over the last 20% (MiniCPM, arXiv 2404.06395; linear cool-down as Hägele et al., arXiv 2405.18392).
/// </para>
/// </remarks>
public sealed record CausalLanguageModelOptions
{
    /// <summary>The special token that separates documents, as the tokenizer names it.</summary>
    public const string EndOfTextToken = Text.BytePairEncodingOptions.EndOfTextToken;

    /// <summary>Fraction of the run the default schedule spends warming up.</summary>
    public const double DefaultWarmupFraction = 0.05;

    /// <summary>Fraction of the run the default schedule spends decaying.</summary>
    public const double DefaultDecayFraction = 0.2;

    /// <summary>Creates the default options for the token column <paramref name="tokensColumnName"/>.</summary>
    /// <exception cref="ArgumentException">The column name is null, empty or white space.</exception>
    public CausalLanguageModelOptions(string tokensColumnName = "Tokens") => TokensColumnName = tokensColumnName;

    /// <summary>The column of token keys (<c>Vector&lt;Key&lt;UInt32, V&gt;&gt;</c>, key = id + 1, one document per row).</summary>
    public string TokensColumnName { get; init => field = OptionChecks.ColumnName(value, nameof(TokensColumnName)); }

    /// <summary>The column <c>Transform</c> adds with each row's mean next-token loss in nats (default "Loss").</summary>
    public string LossColumnName { get; init => field = OptionChecks.ColumnName(value, nameof(LossColumnName)); } = "Loss";

    /// <summary>The column <c>Transform</c> adds with each row's perplexity, <c>exp(Loss)</c> (default "Perplexity").</summary>
    public string PerplexityColumnName { get; init => field = OptionChecks.ColumnName(value, nameof(PerplexityColumnName)); } = "Perplexity";

    /// <summary>
    /// The model's shape: layers, heads, width and context. Its <see cref="TransformerConfig.VocabularySize"/> is not
    /// used: the vocabulary is the token column's key count.
    /// </summary>
    public TransformerConfig Model { get; init => field = value ?? throw new ArgumentNullException(nameof(Model)); } =
        new(layerCount: 2, headCount: 4, channels: 128, contextLength: 128);

    /// <summary>
    /// Rows to measure the loss on during training (every <see cref="EvaluationInterval"/> steps and at the end), or
    /// null. They hold either the token column (<see cref="TokensColumnName"/>) or raw text in
    /// <see cref="ValidationTextColumnName"/>, which is then encoded with the tokenizer the training token column
    /// carries: so the validation set of a whole chain (<c>TrainBytePairEncoding().Append(CausalLanguageModel(...))</c>)
    /// is the untokenized data, as the training data is.
    /// </summary>
    public IDataView? ValidationSet { get; init; }

    /// <summary>The text column of a <see cref="ValidationSet"/> that has no token column (default "Text").</summary>
    public string ValidationTextColumnName { get; init => field = OptionChecks.ColumnName(value, nameof(ValidationTextColumnName)); } = "Text";

    /// <summary>Receives a report after every step, on the training thread; null for none.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>Stops the run before the next step (after writing a checkpoint when checkpointing is on).</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>
    /// The id placed before every row when rows are joined into the training stream and when a row is scored; null
    /// (the default) takes the tokenizer's <see cref="EndOfTextToken"/>, and fitting fails if there is no tokenizer.
    /// </summary>
    public int? EndOfTextTokenId { get; init => field = value is { } id && id < 0 ? throw OptionChecks.OutOfRange(nameof(EndOfTextTokenId), id, "Must not be negative.") : value; }

    /// <summary>Sequences per step (default 8).</summary>
    public int BatchSize { get; init => field = OptionChecks.AtLeast(value, 1, nameof(BatchSize)); } = 8;

    /// <summary>Tokens per training sequence; null (the default) is the model's context length.</summary>
    public int? SequenceLength { get; init => field = value is { } length && length < 1 ? throw OptionChecks.OutOfRange(nameof(SequenceLength), length, "Must be at least 1.") : value; }

    /// <summary>Updates to make (default 1,000); ignored when <see cref="Epochs"/> is set.</summary>
    public long Steps { get; init => field = OptionChecks.AtLeast(value, 1L, nameof(Steps)); } = 1000;

    /// <summary>
    /// Passes over the training tokens; when set, the run makes <c>ceil(Epochs × tokens / (BatchSize × SequenceLength))</c>
    /// steps instead of <see cref="Steps"/>.
    /// </summary>
    public double? Epochs { get; init => field = value is { } epochs && !(epochs > 0 && double.IsFinite(epochs)) ? throw OptionChecks.OutOfRange(nameof(Epochs), epochs, "Must be a finite number above 0.") : value; }

    /// <summary>Evaluate on the validation data every this many steps (0 = only at the end; default 100).</summary>
    public int EvaluationInterval { get; init => field = OptionChecks.AtLeast(value, 0, nameof(EvaluationInterval)); } = 100;

    /// <summary>Validation batches per evaluation: fixed windows, the same at every evaluation (default 8).</summary>
    public int EvaluationBatches { get; init => field = OptionChecks.AtLeast(value, 1, nameof(EvaluationBatches)); } = 8;

    /// <summary>The peak learning rate of the default schedule (default 1e-3); ignored when <see cref="LearningRateSchedule"/> is set.</summary>
    public double LearningRate { get; init => field = double.IsFinite(value) && value > 0 ? value : throw OptionChecks.OutOfRange(nameof(LearningRate), value, "Must be a finite number above 0."); } = 1e-3;

    /// <summary>The learning rate as a function of the step; null (the default) is warmup-stable-decay over the run (see the remarks of this type).</summary>
    public ISchedule? LearningRateSchedule { get; init; }

    /// <summary>
    /// When resuming (<see cref="ResumeFrom"/>) under a plan derived on purpose from the one the checkpoint was trained
    /// under (<see cref="WarmupStableDecaySchedule.ExtendStable"/>, <see cref="WarmupStableDecaySchedule.StartDecayAt"/>,
    /// <see cref="WarmupStableDecaySchedule.BranchDecay"/>, <see cref="WsdsPlan.AddBudget"/>): that stored plan. Null
    /// (the default) refuses to resume a warmup-stable-decay run under any changed plan, naming what changed.
    /// </summary>
    public ISchedule? AcceptedScheduleChangeFrom { get; init; }

    /// <summary>
    /// When resuming (<see cref="ResumeFrom"/>): the kinds of difference from the checkpoint's run declared on purpose
    /// (model, batch size, sequence length, seed, optimizer, schedule, training data). None (the default) refuses a resume
    /// under any difference, naming each (<see cref="RunRecord"/>); passed to the trainer as
    /// <see cref="LanguageModelTrainingOptions.AcceptedChanges"/>.
    /// </summary>
    public RunChanges AcceptedRunChanges { get; init; }

    /// <summary>
    /// With a WSD-S plan (<see cref="WsdsPlan"/>) as <see cref="LearningRateSchedule"/>: the directory where the decayed
    /// model of each budget is saved (safetensors, <c>decayed-{step}.safetensors</c>) while the main branch resumes from it.
    /// </summary>
    public string? DecayedModelDirectory { get; init => field = value is not null && string.IsNullOrWhiteSpace(value) ? throw new ArgumentException("A directory must not be empty.", nameof(DecayedModelDirectory)) : value; }

    /// <summary>
    /// Makes the optimizer from the schedule; null (the default) is AdamW with <see cref="WeightDecay"/> on matrices.
    /// Clipping (<see cref="GradientClipNorm"/>) is chained in front of whatever it returns.
    /// </summary>
    public Func<ISchedule, IGradientTransform>? Optimizer { get; init; }

    /// <summary>Decoupled weight decay of the default optimizer, on matrices only (default 0.1).</summary>
    public double WeightDecay { get; init => field = double.IsFinite(value) && value >= 0 ? value : throw OptionChecks.OutOfRange(nameof(WeightDecay), value, "Must be a finite number >= 0."); } = 0.1;

    /// <summary>Clip the gradients to this global L2 norm before the optimizer (default 1.0; null = no clipping).</summary>
    public double? GradientClipNorm { get; init => field = value is { } norm && !(norm > 0 && double.IsFinite(norm)) ? throw OptionChecks.OutOfRange(nameof(GradientClipNorm), norm, "Must be a finite number above 0.") : value; } = 1.0;

    /// <summary>
    /// Seed of the initial weights and of the batch order; null (the default) draws one from the <c>MLContext</c>'s
    /// random generator when the estimator is made, as ML.NET's trainers do, so <c>new MLContext(seed)</c> repeats a run.
    /// </summary>
    public int? Seed { get; init; }

    /// <summary>
    /// What runs the model: null (the default) is the managed CPU engine (<see cref="ManagedBackend"/>) with
    /// <see cref="ThreadCount"/> threads; pass <c>new TorchSharpBackend(device)</c> from <c>Pipelines.Components.TorchSharp</c>
    /// to train with libtorch. The fitted model is saved as named tensors either way and loads onto the managed engine.
    /// </summary>
    public ITrainingBackend? Backend { get; init; }

    /// <summary>Threads the kernels use (default: one per processor). Results depend on it: resume with the same count.</summary>
    public int ThreadCount { get; init => field = OptionChecks.AtLeast(value, 1, nameof(ThreadCount)); } = Environment.ProcessorCount;

    /// <summary>Where checkpoints are written (needed when <see cref="CheckpointInterval"/> is positive).</summary>
    public string? CheckpointPath { get; init => field = value is not null && string.IsNullOrWhiteSpace(value) ? throw new ArgumentException("A checkpoint path must not be empty.", nameof(CheckpointPath)) : value; }

    /// <summary>Write a checkpoint every this many steps, and on cancellation (0 = never; the default).</summary>
    public int CheckpointInterval { get; init => field = OptionChecks.AtLeast(value, 0, nameof(CheckpointInterval)); }

    /// <summary>A checkpoint of an earlier run with the same options and data to continue from; the result is bit-identical to an uninterrupted run.</summary>
    public string? ResumeFrom { get; init => field = value is not null && string.IsNullOrWhiteSpace(value) ? throw new ArgumentException("A resume path must not be empty.", nameof(ResumeFrom)) : value; }

    /// <summary>The backend of the run: <see cref="Backend"/>, or the managed engine with <see cref="ThreadCount"/> threads.</summary>
    internal ITrainingBackend ResolveBackend() => Backend ?? new ManagedBackend(ThreadCount);

    /// <summary>The training sequence length: <see cref="SequenceLength"/> or the model's context.</summary>
    public int ResolvedSequenceLength => SequenceLength ?? Model.ContextLength;

    /// <summary>Checks the rules between options (each value alone was checked when set).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value conflicts with another; the message names both.</exception>
    internal void Validate()
    {
        if (ResolvedSequenceLength > Model.ContextLength)
            throw OptionChecks.OutOfRange(nameof(SequenceLength), ResolvedSequenceLength, $"Must not exceed the model's context ({Model.ContextLength}).");
        if (CheckpointInterval > 0 && CheckpointPath is null)
            throw OptionChecks.OutOfRange(nameof(CheckpointPath), CheckpointPath, $"A checkpoint interval ({CheckpointInterval}) needs a checkpoint path.");
        if (DecayedModelDirectory is not null && LearningRateSchedule is not WsdsPlan)
            throw OptionChecks.OutOfRange(nameof(DecayedModelDirectory), DecayedModelDirectory, "Decayed models are saved at the budgets of a WSD-S plan: set LearningRateSchedule to a WsdsPlan.");
        if (AcceptedScheduleChangeFrom is not null && AcceptedScheduleChangeFrom.GetType() != LearningRateSchedule?.GetType())
            throw OptionChecks.OutOfRange(nameof(AcceptedScheduleChangeFrom), AcceptedScheduleChangeFrom, "Must be a plan of the same kind as LearningRateSchedule (WarmupStableDecaySchedule or WsdsPlan).");
        string[] columns = [TokensColumnName, LossColumnName, PerplexityColumnName];
        if (columns.Distinct(StringComparer.Ordinal).Count() != columns.Length)
            throw new ArgumentException($"TokensColumnName, LossColumnName and PerplexityColumnName must differ; they are '{string.Join("', '", columns)}'.", nameof(LossColumnName));
    }

    /// <summary>The number of steps for a training stream of <paramref name="tokenCount"/> tokens.</summary>
    internal long ResolveSteps(long tokenCount) =>
        Epochs is { } epochs ? Math.Max(1, (long)Math.Ceiling(epochs * tokenCount / ((double)BatchSize * ResolvedSequenceLength))) : Steps;

    /// <summary>The schedule of a run of <paramref name="steps"/> steps.</summary>
    internal ISchedule ResolveSchedule(long steps)
    {
        if (LearningRateSchedule is { } schedule) return schedule;
        if (steps == 1) return new ConstantSchedule(LearningRate); // a decay's last step runs at the floor, 0: one step would not train
        var decaySteps = Math.Max(1, (long)Math.Round(DefaultDecayFraction * steps, MidpointRounding.AwayFromZero));
        var warmupSteps = Math.Min(steps - decaySteps, (long)Math.Round(DefaultWarmupFraction * steps, MidpointRounding.AwayFromZero));
        return new WarmupStableDecaySchedule(LearningRate, steps, DecayLength.OfSteps(decaySteps), warmupSteps);
    }

    /// <summary>
    /// The hooks that keep a warmup-stable-decay plan in the checkpoint (refusing an unasked-for change on resume) and,
    /// for a WSD-S plan with <see cref="DecayedModelDirectory"/>, save each budget's decayed model.
    /// </summary>
    internal IReadOnlyList<ITrainingHook> ResolveScheduleHooks(ISchedule schedule) => schedule switch
    {
        WarmupStableDecaySchedule plan => [new ScheduleLayoutHook(plan, AcceptedScheduleChangeFrom as WarmupStableDecaySchedule)],
        WsdsPlan plan when DecayedModelDirectory is { } directory => [new ScheduleLayoutHook(plan, AcceptedScheduleChangeFrom as WsdsPlan), new DecayedCheckpointHook(plan, directory)],
        WsdsPlan plan => [new ScheduleLayoutHook(plan, AcceptedScheduleChangeFrom as WsdsPlan)],
        _ => [],
    };

    /// <summary>The optimizer's transform for <paramref name="schedule"/>: clipping, then the chosen or default optimizer.</summary>
    internal IGradientTransform ResolveOptimizer(ISchedule schedule)
    {
        var optimizer = Optimizer is { } factory
            ? factory(schedule) ?? throw new InvalidOperationException("The Optimizer factory returned null.")
            : Optimizers.AdamW(new AdamWOptions(schedule) { Beta1 = 0.9, Beta2 = 0.95, WeightDecay = WeightDecay });
        return GradientClipNorm is { } norm ? new Chain(new ClipByGlobalNorm(norm), optimizer) : optimizer;
    }
}

/// <summary>The checks the option records of this folder share.</summary>
internal static class OptionChecks
{
    public static ArgumentOutOfRangeException OutOfRange(string option, object? value, string rule) =>
        new(option, value, $"{option} is out of range: {rule}");

    public static T AtLeast<T>(T value, T minimum, string option) where T : System.Numerics.INumber<T> =>
        value >= minimum ? value : throw OutOfRange(option, value, $"Must be at least {minimum}.");

    public static string ColumnName(string value, string option) =>
        string.IsNullOrWhiteSpace(value) ? throw new ArgumentException($"{option} needs a column name, not '{value}'.", option) : value;
}
