namespace Pipelines.Components.Training;

/// <summary>
/// The kinds of difference between a checkpoint's run and the run resuming it; a resume refuses every kind not
/// declared in the trainer options' <c>AcceptedChanges</c> (see <see cref="RunRecord"/>).
/// </summary>
[Flags]
public enum RunChanges
{
    /// <summary>No change is accepted: the resumed run must be the checkpoint's run.</summary>
    None = 0,

    /// <summary>The model's configuration (layers, heads, width, context, vocabulary, kind and class count).</summary>
    ModelConfiguration = 1,

    /// <summary>Sequences per step.</summary>
    BatchSize = 2,

    /// <summary>Tokens per sequence (the classifier's maximum sequence length).</summary>
    SequenceLength = 4,

    /// <summary>Which batches each step draws: the sampler's seed (and the classifier's sampling mode).</summary>
    Seed = 8,

    /// <summary>The optimizer: its transforms and their hyperparameters (betas, epsilon, weight decay, clipping).</summary>
    Optimizer = 16,

    /// <summary>The learning-rate schedule inside the optimizer. A <see cref="ScheduleLayoutHook"/> in the run checks it instead.</summary>
    LearningRateSchedule = 32,

    /// <summary>The training data, by its SHA-256 fingerprint and size.</summary>
    TrainingData = 64,

    /// <summary>Every kind of change.</summary>
    All = ModelConfiguration | BatchSize | SequenceLength | Seed | Optimizer | LearningRateSchedule | TrainingData,
}
