namespace Pipelines.Components.Training;

/// <summary>What one training step measured (a row of the run's CSV).</summary>
/// <param name="Step">The step (1 = after the first update).</param>
/// <param name="TrainingLoss">Mean training loss of the step's batch.</param>
/// <param name="LearningRate">Learning rate the step used.</param>
/// <param name="ValidationLoss">Validation loss measured after this step, if an evaluation ran.</param>
public sealed record StepMetrics(long Step, double TrainingLoss, double LearningRate, double? ValidationLoss)
{
    internal void Write(BinaryWriter writer)
    {
        writer.Write(Step);
        writer.Write(TrainingLoss);
        writer.Write(LearningRate);
        writer.Write(ValidationLoss.HasValue);
        writer.Write(ValidationLoss ?? 0);
    }

    internal static StepMetrics Read(BinaryReader reader)
    {
        var step = reader.ReadInt64();
        var loss = reader.ReadDouble();
        var learningRate = reader.ReadDouble();
        var hasValidation = reader.ReadBoolean();
        var validation = reader.ReadDouble();
        return new StepMetrics(step, loss, learningRate, hasValidation ? validation : null);
    }
}
