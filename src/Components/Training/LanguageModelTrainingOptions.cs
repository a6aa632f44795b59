namespace Pipelines.Components.Training;

/// <summary>How a causal language model is trained: batch shape, length, evaluation and checkpoints.</summary>
public sealed record LanguageModelTrainingOptions
{
    /// <summary>Sequences per step (B).</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Tokens per sequence (T); at most the model's context.</summary>
    public int SequenceLength { get; init; } = 128;

    /// <summary>Number of updates.</summary>
    public long Steps { get; init; } = 1000;

    /// <summary>Evaluate on the validation tokens every this many steps (0 = only at the end).</summary>
    public int EvaluationInterval { get; init; } = 100;

    /// <summary>Validation batches per evaluation (fixed windows, the same every time).</summary>
    public int EvaluationBatches { get; init; } = 8;

    /// <summary>Seed of the batch sampler: step s draws its batch from stream s of this seed.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Write a checkpoint every this many steps (0 = never).</summary>
    public int CheckpointInterval { get; init; }

    /// <summary>Where checkpoints go (required when <see cref="CheckpointInterval"/> is positive).</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>
    /// Differences from a resumed checkpoint's run declared on purpose (default none): any other difference in the model,
    /// batch size, sequence length, seed, optimizer, schedule or training data is refused (<see cref="RunRecord"/>).
    /// </summary>
    public RunChanges AcceptedChanges { get; init; }

    /// <summary>The part of these options the <see cref="TrainingLoop"/> reads.</summary>
    public TrainingLoopOptions Loop => new(Steps, EvaluationInterval, CheckpointInterval, CheckpointPath, AcceptedChanges);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate(int contextLength)
    {
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "Must be at least 1.");
        if (SequenceLength < 1 || SequenceLength > contextLength)
            throw new ArgumentOutOfRangeException(nameof(SequenceLength), SequenceLength, $"Must be between 1 and the model's context ({contextLength}).");
        if (Steps < 0) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "Must not be negative.");
        if (EvaluationInterval < 0) throw new ArgumentOutOfRangeException(nameof(EvaluationInterval), EvaluationInterval, "Must not be negative.");
        if (EvaluationBatches < 1) throw new ArgumentOutOfRangeException(nameof(EvaluationBatches), EvaluationBatches, "Must be at least 1.");
        if (CheckpointInterval < 0) throw new ArgumentOutOfRangeException(nameof(CheckpointInterval), CheckpointInterval, "Must not be negative.");
        if (CheckpointInterval > 0 && string.IsNullOrWhiteSpace(CheckpointPath))
            throw new ArgumentOutOfRangeException(nameof(CheckpointPath), CheckpointPath, "A checkpoint interval needs a checkpoint path.");
        if ((AcceptedChanges & ~RunChanges.All) != 0)
            throw new ArgumentOutOfRangeException(nameof(AcceptedChanges), AcceptedChanges, "Unknown kinds of run change.");
    }
}
