using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Training;

namespace Pipelines.FineTuning;

/// <summary>Options of <see cref="TextClassificationEstimator"/>: columns, model shape, length of the run, optimizer and checkpoints.</summary>
/// <remarks>
/// Immutable; each value is checked when it is set (a bad one throws <see cref="ArgumentOutOfRangeException"/> naming the
/// option and the value), and the options are checked against each other when the estimator is created. The defaults
/// train a small encoder (2 layers, width 64, 4 heads) for 3 epochs with AdamW under a warm-up + cosine schedule,
/// a setting that fits a CPU. Validation data, progress and cancellation are arguments of
/// <see cref="TextClassificationEstimator.Fit(IDataView, IDataView?, IProgress{TrainingProgress}?, CancellationToken)"/>,
/// not options.
/// </remarks>
public sealed record TextClassificationOptions
{
    /// <summary>The default peak learning rate of <see cref="LearningRateSchedule"/>.</summary>
    public const double DefaultLearningRate = 1e-3;

    /// <summary>The token-id column, a vector of Int32 (default <c>Tokens</c>).</summary>
    public string TokensColumnName { get; init => field = ColumnName(value, nameof(TokensColumnName)); } = "Tokens";

    /// <summary>The label column: text, boolean or key (default <c>Label</c>).</summary>
    public string LabelColumnName { get; init => field = ColumnName(value, nameof(LabelColumnName)); } = "Label";

    /// <summary>The column of predicted labels, of the label's type (default <c>PredictedLabel</c>).</summary>
    public string PredictedLabelColumnName { get; init => field = ColumnName(value, nameof(PredictedLabelColumnName)); } = "PredictedLabel";

    /// <summary>The column of per-class probabilities, a vector of Single (default <c>Score</c>).</summary>
    public string ScoreColumnName { get; init => field = ColumnName(value, nameof(ScoreColumnName)); } = "Score";

    /// <summary>
    /// The encoder's shape (default 2 layers, 4 heads, width 64, context 128, vocabulary 2,048 — the BPE trainer's default
    /// vocabulary). The vocabulary must cover every token id of the data.
    /// </summary>
    public TransformerConfig Model { get; init => field = value ?? throw new ArgumentNullException(nameof(Model)); } =
        new(layerCount: 2, headCount: 4, channels: 64, contextLength: 128, vocabularySize: 2048);

    /// <summary>Sequences per step (default 16).</summary>
    public int BatchSize { get; init => field = AtLeast(value, 1, nameof(BatchSize)); } = 16;

    /// <summary>Longest sequence fed to the model; longer ones keep their first tokens (default 128, at most the context).</summary>
    public int MaximumSequenceLength { get; init => field = AtLeast(value, 1, nameof(MaximumSequenceLength)); } = 128;

    /// <summary>Passes over the training data (default 3); ignored when <see cref="Steps"/> is set. Steps = ⌈epochs·N/B⌉.</summary>
    public double Epochs
    {
        get;
        init => field = double.IsFinite(value) && value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(Epochs), value, "Epochs must be finite and positive.");
    } = 3;

    /// <summary>Number of updates; when set, it replaces <see cref="Epochs"/> (default null).</summary>
    public long? Steps { get; init => field = value is null or >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Steps), value, "Steps must be at least 1."); }

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
        init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(Sampling), value, "Unknown batch sampling.");
    } = BatchSampling.ShuffledEpochs;

    /// <summary>Seed of the initial weights and of the batches; null derives one from the context (<c>FineTuning/TextClassification</c>).</summary>
    public int? Seed { get; init; }

    /// <summary>Threads the engine may use; null uses every processor. A run is reproducible for a given thread count.</summary>
    public int? ThreadCount { get; init => field = value is null or >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(ThreadCount), value, "ThreadCount must be at least 1."); }

    /// <summary>Evaluate on the validation data every this many steps (0 = only after the last step; default 0).</summary>
    public int EvaluationInterval { get; init => field = AtLeast(value, 0, nameof(EvaluationInterval)); }

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
    /// and shapes as <see cref="Model"/>); the classification head starts fresh. Null starts from random weights.
    /// </summary>
    public string? PretrainedWeightsPath { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> or <see cref="ArgumentException"/> naming the first options that do not fit together.</summary>
    internal void Validate()
    {
        if (MaximumSequenceLength > Model.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(MaximumSequenceLength), MaximumSequenceLength, $"Must be at most the model's context ({Model.ContextLength}).");
        if (CheckpointInterval > 0 && string.IsNullOrWhiteSpace(CheckpointPath))
            throw new ArgumentOutOfRangeException(nameof(CheckpointPath), CheckpointPath, "A checkpoint interval needs a checkpoint path.");
        if (PredictedLabelColumnName == ScoreColumnName)
            throw new ArgumentException($"The predicted-label and score columns are both named '{ScoreColumnName}'.", nameof(ScoreColumnName));
    }

    private static int AtLeast(int value, int minimum, string name) =>
        value >= minimum ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least {minimum}.");

    private static string ColumnName(string value, string name) =>
        string.IsNullOrWhiteSpace(value) ? throw new ArgumentException($"{name} must name a column.", name) : value;
}
