using Microsoft.Extensions.Logging;
using Pipelines.Components.Training;

namespace Pipelines.Pretraining;

/// <content>What the estimator logs.</content>
public sealed partial class CausalLanguageModelEstimator
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Pre-training a GPT of {ParameterCount} parameters (vocabulary {VocabularySize}) on {TokenCount} tokens in {RowCount} rows: {Steps} steps of {BatchSize} x {SequenceLength} tokens")]
    private static partial void LogStart(ILogger logger, long parameterCount, int vocabularySize, long tokenCount, long rowCount, long steps, int batchSize, int sequenceLength);

    [LoggerMessage(Level = LogLevel.Information, Message = "Step {Step}: validation loss {ValidationLoss:F4}")]
    private static partial void LogEvaluation(ILogger logger, long step, double validationLoss);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pre-training ended after {Steps} steps: training loss {TrainingLoss:F4}, validation loss {ValidationLoss}")]
    private static partial void LogEnd(ILogger logger, long steps, double trainingLoss, double? validationLoss);

    [LoggerMessage(Level = LogLevel.Error, Message = "Pre-training diverged at step {Step}: {Tensor} is {Value}")]
    private static partial void LogDiverged(ILogger logger, long step, string tensor, double value);

    /// <summary>Forwards progress to the caller and logs each new validation loss.</summary>
    private sealed class LoggingProgress(ILogger logger, IProgress<TrainingProgress>? inner) : IProgress<TrainingProgress>
    {
        private double? lastValidation;

        public void Report(TrainingProgress value)
        {
            if (value.ValidationLoss is { } validation && validation != lastValidation)
            {
                lastValidation = validation;
                LogEvaluation(logger, value.Step, validation);
            }

            inner?.Report(value);
        }
    }
}
