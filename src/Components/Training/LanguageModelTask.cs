using Pipelines.Components.Models;

namespace Pipelines.Components.Training;

/// <summary>
/// Next-token prediction as an <see cref="ITrainingTask"/>: step s trains on the B windows of T tokens the
/// <see cref="TokenBatchSampler"/> draws for s; validation is the mean loss over fixed windows.
/// </summary>
/// <remarks>The loss is <c>L = −(1/(B·T)) Σ ln p(xₜ₊₁ | x≤ₜ)</c>, computed by the model's softmax cross-entropy kernel.</remarks>
internal sealed class LanguageModelTask : ITrainingTask
{
    private readonly ICausalLanguageModel model;
    private readonly LanguageModelTrainingOptions options;
    private readonly TokenBatchSampler sampler;
    private readonly TokenBatchSampler? validationSampler;
    private readonly int[] inputs;
    private readonly int[] targets;

    public LanguageModelTask(ICausalLanguageModel model, LanguageModelTrainingOptions options, int[] trainingTokens, int[]? validationTokens)
    {
        this.model = model;
        this.options = options;
        sampler = new TokenBatchSampler(trainingTokens, options.BatchSize, options.SequenceLength, options.Seed);
        validationSampler = validationTokens is null ? null : new TokenBatchSampler(validationTokens, options.BatchSize, options.SequenceLength, options.Seed);
        inputs = new int[options.BatchSize * options.SequenceLength];
        targets = new int[options.BatchSize * options.SequenceLength];
    }

    public bool HasValidation => validationSampler is not null;

    public long LoadBatch(long step)
    {
        sampler.Sample(step, inputs, targets);
        return inputs.Length;
    }

    public double Forward() => model.Forward(inputs, targets, options.BatchSize, options.SequenceLength);

    public void Backward() => model.Backward();

    public double Epochs(long steps) => (double)steps * options.BatchSize * options.SequenceLength / sampler.TokenCount;

    public double Validate() => Evaluate(model, options, validationSampler ?? throw new InvalidOperationException("This run has no validation tokens."));

    /// <summary>Mean loss over <see cref="LanguageModelTrainingOptions.EvaluationBatches"/> fixed windows of the sampler's tokens.</summary>
    public static double Evaluate(ICausalLanguageModel model, LanguageModelTrainingOptions options, TokenBatchSampler sampler)
    {
        var inputs = new int[options.BatchSize * options.SequenceLength];
        var targets = new int[inputs.Length];
        double sum = 0;
        for (var batch = 0; batch < options.EvaluationBatches; batch++)
        {
            sampler.SampleEvaluation(batch, options.EvaluationBatches * options.BatchSize, inputs, targets);
            sum += model.Forward(inputs, targets, options.BatchSize, options.SequenceLength);
        }

        return sum / options.EvaluationBatches;
    }
}
