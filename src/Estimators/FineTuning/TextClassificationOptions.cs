using Pipelines.Components.Backends;
using Microsoft.ML;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Training;
using Pipelines.Lora;

namespace Pipelines.FineTuning;

/// <summary>
/// Options of <see cref="TextClassificationEstimator"/> (<c>mlContext.MulticlassClassification.Trainers.TextClassifier(options)</c>):
/// columns, the encoder's shape, the length of the run, the optimizer, and what a fit inside a chain needs
/// (validation data, progress, cancellation, checkpoints).
/// </summary>
/// <remarks>
/// Immutable; each value is checked when it is set (a bad one throws <see cref="ArgumentOutOfRangeException"/>, or
/// <see cref="ArgumentException"/> for a column name, naming the option and the value), and the values are checked
/// against each other when the estimator is created. The defaults train a small encoder (2 layers, width 64, 4 heads,
/// vocabulary of the token column) for 3 epochs with AdamW under a warm-up + cosine schedule, a setting that fits a CPU.
/// <para>
/// As ML.NET's own TorchSharp trainers take it, the validation data is an option (<see cref="ValidationSet"/>), so that
/// it reaches <c>Fit</c> when the estimator sits inside a chain; it goes through the same upstream transformers only if
/// the caller transforms it first (as in <c>samples/SpamFineTune</c>).
/// </para>
/// </remarks>
public sealed record TextClassificationOptions
{
    /// <summary>The default peak learning rate of <see cref="LearningRateSchedule"/>.</summary>
    public const double DefaultLearningRate = 1e-3;

    /// <summary>The label column, a key (default <c>Label</c>; put <c>MapValueToKey("Label")</c> before the trainer).</summary>
    public string LabelColumnName { get; init => field = ColumnName(value, nameof(LabelColumnName)); } = "Label";

    /// <summary>The token column, a vector of keys as the tokenizer writes it (<see cref="Text.TokenColumn"/>; default <c>Tokens</c>).</summary>
    public string TokensColumnName { get; init => field = ColumnName(value, nameof(TokensColumnName)); } = "Tokens";

    /// <summary>The column of predicted labels, of the label's key type (default <c>PredictedLabel</c>).</summary>
    public string PredictedLabelColumnName { get; init => field = ColumnName(value, nameof(PredictedLabelColumnName)); } = "PredictedLabel";

    /// <summary>The column of per-class probabilities, a vector of Single of the class count (default <c>Score</c>).</summary>
    public string ScoreColumnName { get; init => field = ColumnName(value, nameof(ScoreColumnName)); } = "Score";

    /// <summary>
    /// The encoder's shape: layers, heads, width and context (default 2 layers, 4 heads, width 64, context 128). Its
    /// <see cref="TransformerConfig.VocabularySize"/> is not used: the vocabulary is <see cref="VocabularySize"/> or
    /// the token column's key count.
    /// </summary>
    public TransformerConfig Model { get; init => field = value ?? throw new ArgumentNullException(nameof(Model)); } =
        new(layerCount: 2, headCount: 4, channels: 64, contextLength: 128);

    /// <summary>The encoder's vocabulary; null (the default) takes the token column's key count, and a smaller value is refused.</summary>
    public int? VocabularySize { get; init => field = value is null or >= 1 ? value : throw OutOfRange(nameof(VocabularySize), value, "Must be at least 1."); }

    /// <summary>Sequences per step (default 16).</summary>
    public int BatchSize { get; init => field = AtLeast(value, 1, nameof(BatchSize)); } = 16;

    /// <summary>Longest sequence fed to the model; longer ones keep their first tokens (default 128, at most the context).</summary>
    public int MaximumSequenceLength { get; init => field = AtLeast(value, 1, nameof(MaximumSequenceLength)); } = 128;

    /// <summary>Passes over the training data (default 3); ignored when <see cref="Steps"/> is set. Steps = ⌈epochs·N/B⌉.</summary>
    public double Epochs
    {
        get;
        init => field = double.IsFinite(value) && value > 0 ? value : throw OutOfRange(nameof(Epochs), value, "Must be finite and positive.");
    } = 3;

    /// <summary>Number of updates; when set, it replaces <see cref="Epochs"/> (default null).</summary>
    public long? Steps { get; init => field = value is null or >= 1 ? value : throw OutOfRange(nameof(Steps), value, "Must be at least 1."); }

    /// <summary>
    /// The learning-rate schedule, made from the run's number of steps (default: linear warm-up over the first 10% to
    /// <see cref="DefaultLearningRate"/>, then a cosine decay to 0).
    /// </summary>
    public Func<long, ISchedule> LearningRateSchedule { get; init => field = value ?? throw new ArgumentNullException(nameof(LearningRateSchedule)); } =
        static totalSteps => new CosineSchedule(DefaultLearningRate, totalSteps, warmupSteps: totalSteps / 10);

    /// <summary>Makes the optimizer from the schedule (default AdamW, weight decay 0.01 on matrices, arXiv 1711.05101).</summary>
    public Func<ISchedule, IGradientTransform> Optimizer { get; init => field = value ?? throw new ArgumentNullException(nameof(Optimizer)); } =
        static schedule => Optimizers.AdamW(schedule);

    /// <summary>How each step's examples are chosen (default shuffled epochs).</summary>
    public BatchSampling Sampling
    {
        get;
        init => field = Enum.IsDefined(value) ? value : throw OutOfRange(nameof(Sampling), value, "Unknown batch sampling.");
    } = BatchSampling.ShuffledEpochs;

    /// <summary>Seed of the initial weights and of the batches; null (the default) draws one from the <see cref="MLContext"/>'s seeded generator when the estimator is created.</summary>
    public int? Seed { get; init; }

    /// <summary>
    /// What runs the model: null (the default) is the managed CPU engine (<see cref="ManagedBackend"/>) on
    /// <see cref="ThreadCount"/> threads; <c>new TorchSharpBackend(device)</c> from <c>Pipelines.Components.TorchSharp</c>
    /// fine-tunes with libtorch. The fitted model is saved as named tensors either way and loads onto the managed engine.
    /// </summary>
    public ITrainingBackend? Backend { get; init; }

    /// <summary>Per-example loss weights, one per labelled training row in order (null = all equal): each batch's loss is <c>Σ wᵢ·ℓᵢ / Σ wᵢ</c>.</summary>
    /// <remarks>For class re-weighting or importance weighting; part of the run's record, so a resume with other weights is refused.</remarks>
    public float[]? ExampleWeights { get; init; }

    /// <summary>The backend of the run: <see cref="Backend"/>, or the managed engine with <see cref="ThreadCount"/> threads.</summary>
    internal ITrainingBackend ResolveBackend() => Backend ?? new ManagedBackend(ThreadCount ?? Environment.ProcessorCount);

    /// <summary>Threads the engine may use in training; null uses every processor. A run is reproducible for a given thread count.</summary>
    public int? ThreadCount { get; init => field = value is null or >= 1 ? value : throw OutOfRange(nameof(ThreadCount), value, "Must be at least 1."); }

    /// <summary>Labelled rows to evaluate on during training (same columns as the training data), or null (the default).</summary>
    public IDataView? ValidationSet { get; init; }

    /// <summary>Evaluate on <see cref="ValidationSet"/> every this many steps (0 = only after the last step; default 0).</summary>
    public int EvaluationInterval { get; init => field = AtLeast(value, 0, nameof(EvaluationInterval)); }

    /// <summary>Receives a report after every step, on the training thread (default none).</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>Stops <c>Fit</c> between steps with <see cref="OperationCanceledException"/> (a checkpoint is written first when checkpointing is on).</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Write a checkpoint to <see cref="CheckpointPath"/> every this many steps (0 = never; default 0).</summary>
    public int CheckpointInterval { get; init => field = AtLeast(value, 0, nameof(CheckpointInterval)); }

    /// <summary>Where checkpoints are written (atomically); required when <see cref="CheckpointInterval"/> is positive.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>A checkpoint to resume from: the run continues from its step, bit-identically for the same data, options and thread count.</summary>
    public string? ResumePath { get; init; }

    /// <summary>
    /// When resuming (<see cref="ResumePath"/>): the kinds of difference from the checkpoint's run declared on purpose.
    /// None (the default) refuses a resume under any difference, naming each (<see cref="RunRecord"/>); passed to the
    /// trainer as <see cref="ClassifierTrainerOptions.AcceptedChanges"/>.
    /// </summary>
    public RunChanges AcceptedRunChanges { get; init; }

    /// <summary>
    /// A pre-trained GPT's safetensors weights to start the encoder's body from (embeddings, blocks, final norm; same names
    /// and shapes); the classification head starts fresh. Null (the default) starts from random weights.
    /// </summary>
    public string? PretrainedWeightsPath { get; init; }

    /// <summary>
    /// Which weights train: <see cref="FineTuningAdaptation.Full"/> (the default), <see cref="FineTuningAdaptation.Lora"/>(plan)
    /// or <see cref="FineTuningAdaptation.LoraEverywhere"/>(rank, alpha, targets); part of the run's record, so a resume
    /// under another adaptation is refused. With <see cref="Privacy"/> too, the adapters and the head train under DP-SGD
    /// (private LoRA: every example's norm covers A and B, which get the noise too); a plan with dropout is then refused.
    /// </summary>
    public FineTuningAdaptation Adaptation { get; init => field = value ?? throw new ArgumentNullException(nameof(Adaptation)); } = FineTuningAdaptation.Full;

    /// <summary>
    /// Differentially private fine-tuning (DP-SGD with an (epsilon, delta) budget as a contract; Abadi et al. 2016,
    /// arXiv 1607.00133; RDP accountant, Mironov 2017, arXiv 1702.07476), or null (the default) for none. When set,
    /// Poisson sampling at q = <see cref="BatchSize"/> / N replaces <see cref="Sampling"/>, the epsilon spent is in every
    /// progress report, training stops before the step that would exceed the budget, and the fitted model carries the
    /// guarantee (<see cref="TextClassificationTransformer.Privacy"/>). Managed backend only.
    /// </summary>
    public Pipelines.Components.Privacy.DifferentialPrivacy? Privacy { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> or <see cref="ArgumentException"/> naming the first options that do not fit together.</summary>
    /// <exception cref="NotSupportedException">LoRA is asked of a backend other than the managed one.</exception>
    internal void Validate()
    {
        Privacy?.Validate();
        if (Backend is not (null or ManagedBackend) && Adaptation != FineTuningAdaptation.Full)
            throw new NotSupportedException($"LoRA fine-tuning ({Adaptation}) runs on the managed backend only, not on '{Backend.Name}': leave {nameof(Backend)} null or pass a ManagedBackend.");
        if (MaximumSequenceLength > Model.ContextLength)
            throw OutOfRange(nameof(MaximumSequenceLength), MaximumSequenceLength, $"Must be at most the model's context ({Model.ContextLength}).");
        if (CheckpointInterval > 0 && string.IsNullOrWhiteSpace(CheckpointPath))
            throw OutOfRange(nameof(CheckpointPath), CheckpointPath, $"A checkpoint interval ({CheckpointInterval}) needs a checkpoint path.");
        if (PredictedLabelColumnName == ScoreColumnName)
            throw new ArgumentException($"The options {nameof(PredictedLabelColumnName)} and {nameof(ScoreColumnName)} both name the column '{ScoreColumnName}'.", nameof(ScoreColumnName));
    }

    private static ArgumentOutOfRangeException OutOfRange(string option, object? value, string rule) =>
        new(option, value, $"The option {option} cannot be {value ?? "null"}: {rule}");

    private static int AtLeast(int value, int minimum, string option) =>
        value >= minimum ? value : throw OutOfRange(option, value, $"Must be at least {minimum}.");

    private static string ColumnName(string value, string option) =>
        string.IsNullOrWhiteSpace(value) ? throw new ArgumentException($"The option {option} needs a column name, not '{value}'.", option) : value;
}
