namespace Pipelines.Components.Training;

/// <summary>Thrown when a run produces a non-finite loss or gradient: the step and the tensor are named.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception for <paramref name="step"/> and the tensor that went non-finite.</summary>
    public TrainingDivergedException(long step, string tensor, double value)
        : base($"Training diverged at step {step}: {tensor} is {value}. Lower the learning rate or clip gradients.")
    {
        Step = step;
        Tensor = tensor;
        Value = value;
    }

    /// <summary>The step (0-based) at which the value went non-finite.</summary>
    public long Step { get; }

    /// <summary>Which quantity: "loss", "gradients" or "parameters".</summary>
    public string Tensor { get; }

    /// <summary>The offending value (NaN or infinity).</summary>
    public double Value { get; }
}
