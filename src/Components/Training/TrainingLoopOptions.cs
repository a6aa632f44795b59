namespace Pipelines.Components.Training;

/// <summary>The part of a trainer's options the loop itself reads: its length, the evaluation and checkpoint schedule, accepted run changes.</summary>
/// <param name="Steps">Number of updates of the whole run.</param>
/// <param name="EvaluationInterval">Validate every this many steps (0 = only after the last step).</param>
/// <param name="CheckpointInterval">Write a checkpoint every this many steps (0 = never).</param>
/// <param name="CheckpointPath">Where checkpoints go (required when <paramref name="CheckpointInterval"/> is positive).</param>
/// <param name="AcceptedChanges">Differences from a resumed checkpoint's run declared on purpose.</param>
public sealed record TrainingLoopOptions(long Steps, int EvaluationInterval, int CheckpointInterval, string? CheckpointPath, RunChanges AcceptedChanges)
{
    /// <summary>Whether validation runs after update number <paramref name="step"/> (1-based): on the interval and after the last step.</summary>
    public bool EvaluatesAfter(long step) => step == Steps || (EvaluationInterval > 0 && step % EvaluationInterval == 0);

    /// <summary>Whether a checkpoint is written after update number <paramref name="step"/> (1-based).</summary>
    public bool CheckpointsAfter(long step) => CheckpointInterval > 0 && step % CheckpointInterval == 0;
}
