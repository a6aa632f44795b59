namespace Pipelines.Components.Training;

/// <summary>How a <see cref="ClassifierTrainer"/> trains: batch shape, length of the run, evaluation and checkpoints.</summary>
/// <remarks>
/// Each value is checked when it is set (a bad one throws <see cref="ArgumentOutOfRangeException"/> naming the option and
/// the value); <see cref="Validate"/> checks the options against each other and against the model's context.
/// </remarks>
public sealed record ClassifierTrainerOptions
{
    /// <summary>Sequences per step (B, default 16).</summary>
    public int BatchSize { get; init => field = AtLeast(value, 1, nameof(BatchSize)); } = 16;

    /// <summary>Longest sequence fed to the model (default 128); longer ones keep their first tokens. At most the model's context.</summary>
    public int MaximumSequenceLength { get; init => field = AtLeast(value, 1, nameof(MaximumSequenceLength)); } = 128;

    /// <summary>Number of updates (default 1,000).</summary>
    public long Steps { get; init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Steps), value, "Steps must be at least 1."); } = 1000;

    /// <summary>How each step's examples are chosen (default <see cref="BatchSampling.ShuffledEpochs"/>).</summary>
    public BatchSampling Sampling
    {
        get;
        init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(Sampling), value, "Unknown batch sampling.");
    } = BatchSampling.ShuffledEpochs;

    /// <summary>Evaluate on the validation set every this many steps (0 = only after the last step; default 0).</summary>
    public int EvaluationInterval { get; init => field = AtLeast(value, 0, nameof(EvaluationInterval)); }

    /// <summary>Seed of the batch sampler (default 1).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Write a checkpoint every this many steps (0 = never; default 0).</summary>
    public int CheckpointInterval { get; init => field = AtLeast(value, 0, nameof(CheckpointInterval)); }

    /// <summary>Where checkpoints go (required when <see cref="CheckpointInterval"/> is positive).</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>
    /// Differences from a resumed checkpoint's run declared on purpose (default none): any other difference in the model,
    /// batch size, sequence length, sampling, optimizer, schedule or training data is refused (<see cref="RunRecord"/>).
    /// </summary>
    public RunChanges AcceptedChanges
    {
        get;
        init => field = (value & ~RunChanges.All) == 0 ? value : throw new ArgumentOutOfRangeException(nameof(AcceptedChanges), value, "Unknown kinds of run change.");
    }

    /// <summary>The part of these options the <see cref="TrainingLoop"/> reads.</summary>
    public TrainingLoopOptions Loop => new(Steps, EvaluationInterval, CheckpointInterval, CheckpointPath, AcceptedChanges);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option that does not fit the others or the model.</summary>
    public void Validate(int contextLength)
    {
        if (MaximumSequenceLength > contextLength)
            throw new ArgumentOutOfRangeException(nameof(MaximumSequenceLength), MaximumSequenceLength, $"Must be at most the model's context ({contextLength}).");
        if (CheckpointInterval > 0 && string.IsNullOrWhiteSpace(CheckpointPath))
            throw new ArgumentOutOfRangeException(nameof(CheckpointPath), CheckpointPath, "A checkpoint interval needs a checkpoint path.");
    }

    private static int AtLeast(int value, int minimum, string name) =>
        value >= minimum ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least {minimum}.");
}
