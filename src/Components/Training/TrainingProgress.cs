namespace Pipelines.Components.Training;

/// <summary>One report from a running training loop.</summary>
/// <param name="Step">Updates completed so far.</param>
/// <param name="TotalSteps">Updates the run will make.</param>
/// <param name="Epoch">Passes over the training tokens so far (fractional).</param>
/// <param name="Loss">Training loss of the latest step.</param>
/// <param name="LearningRate">Learning rate used by the latest step.</param>
/// <param name="TokensPerSecond">Training throughput since the run (or resume) started.</param>
/// <param name="Elapsed">Wall time since the run (or resume) started.</param>
/// <param name="ValidationLoss">Latest validation loss, if any evaluation ran.</param>
/// <param name="Epsilon">Epsilon spent so far in a differentially private run (RDP accountant); null when the run is not private.</param>
public sealed record TrainingProgress(long Step, long TotalSteps, double Epoch, double Loss, double LearningRate, double TokensPerSecond, TimeSpan Elapsed, double? ValidationLoss,
    double? Epsilon = null);
