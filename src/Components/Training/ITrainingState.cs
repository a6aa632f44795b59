namespace Pipelines.Components.Training;

/// <summary>
/// The other half of what <see cref="TrainingLoop"/> drives: the parameters, their gradients and the optimizer that
/// updates them, wherever they live (one flat arena in the managed engine, tensors on a device in TorchSharp).
/// </summary>
public interface ITrainingState
{
    /// <summary>The learning rate the next update will use.</summary>
    double CurrentLearningRate { get; }

    /// <summary>Sets every gradient to zero before a step's backward (backward passes accumulate).</summary>
    void ZeroGradients();

    /// <summary>Checks that the gradients of step <paramref name="step"/> are finite, then applies the update (with any hooks around it).</summary>
    /// <exception cref="TrainingDivergedException">A gradient is NaN or infinite (the step is named).</exception>
    void Update(long step);

    /// <summary>Writes a checkpoint of the weights, the optimizer's and hooks' states, <paramref name="history"/> and <paramref name="run"/>, atomically.</summary>
    /// <exception cref="NotSupportedException">This state cannot be checkpointed (the message says which backend can).</exception>
    void WriteCheckpoint(string path, long step, IReadOnlyList<StepMetrics> history, RunRecord run);

    /// <summary>Restores a checkpoint after comparing its run with <paramref name="run"/>; returns the step and the history.</summary>
    /// <exception cref="RunChangedException">The checkpoint was trained under a different run.</exception>
    /// <exception cref="NotSupportedException">This state cannot be checkpointed.</exception>
    (long Step, List<StepMetrics> History) ReadCheckpoint(string path, RunRecord run, RunChanges acceptedChanges);
}
