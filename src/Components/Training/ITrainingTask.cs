namespace Pipelines.Components.Training;

/// <summary>
/// What <see cref="TrainingLoop"/> needs to know about a task: a batch source and a model that returns the loss of a
/// batch and accumulates its gradients. A causal language model over token windows and an encoder classifier over
/// labelled sequences are two such tasks; the loop around them (guards, hooks, evaluation, progress, checkpoints) is one.
/// The parameters and the optimizer are the loop's other half, <see cref="ITrainingState"/>.
/// </summary>
/// <remarks>
/// Determinism: <see cref="LoadBatch"/> must choose the batch from the step alone (not from how many batches were drawn
/// before), so a run resumed at step s trains on exactly the batches a straight run would.
/// </remarks>
public interface ITrainingTask
{
    /// <summary>Loads the training batch of step <paramref name="step"/> (0-based) and returns how many tokens it holds.</summary>
    long LoadBatch(long step);

    /// <summary>Runs the model on the loaded batch and returns its mean loss; prepares <see cref="Backward"/>.</summary>
    double Forward();

    /// <summary>Back-propagates the loss of the last <see cref="Forward"/>; gradients accumulate into the <see cref="ITrainingState"/>'s parameters.</summary>
    void Backward();

    /// <summary>Passes over the training data after <paramref name="steps"/> updates (fractional).</summary>
    double Epochs(long steps);

    /// <summary>Whether <see cref="Validate"/> has data to measure.</summary>
    bool HasValidation { get; }

    /// <summary>The validation loss of the current weights (the task may keep richer results, such as accuracy).</summary>
    /// <exception cref="InvalidOperationException">The task has no validation data.</exception>
    double Validate();
}
