using Pipelines.Components.Training;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Backends;

/// <summary>
/// Next-token prediction on a <see cref="TorchGptModel"/> as an <see cref="ITrainingTask"/>: the same windows as the
/// managed engine (<see cref="TokenBatchSampler"/>, step s from stream s of the seed), copied to the device once per
/// step; the loss stays on the device until its one scalar is read.
/// </summary>
internal sealed class TorchLanguageModelTask : ITrainingTask, IDisposable
{
    private readonly TorchGptModel model;
    private readonly LanguageModelTrainingOptions options;
    private readonly TokenBatchSampler sampler;
    private readonly TokenBatchSampler? validationSampler;
    private readonly int[] inputs;
    private readonly int[] targets;
    private Tensor? loss;

    public TorchLanguageModelTask(TorchGptModel model, LanguageModelTrainingOptions options, int[] trainingTokens, int[]? validationTokens)
    {
        this.model = model;
        this.options = options;
        sampler = new TokenBatchSampler(trainingTokens, options.BatchSize, options.SequenceLength, options.Seed);
        validationSampler = validationTokens is null ? null : new TokenBatchSampler(validationTokens, options.BatchSize, options.SequenceLength, options.Seed);
        inputs = new int[options.BatchSize * options.SequenceLength];
        targets = new int[inputs.Length];
    }

    public bool HasValidation => validationSampler is not null;

    public long LoadBatch(long step)
    {
        sampler.Sample(step, inputs, targets);
        return inputs.Length;
    }

    public double Forward()
    {
        loss?.Dispose();
        model.train();
        using var scope = NewDisposeScope();
        loss = BatchLoss(model, inputs, targets, options.BatchSize, options.SequenceLength).MoveToOuterDisposeScope();
        return loss.item<float>();
    }

    public void Backward()
    {
        var current = loss ?? throw new InvalidOperationException("Backward needs a forward pass first.");
        using var scope = NewDisposeScope();
        current.backward();
        current.Dispose();
        loss = null;
    }

    public double Epochs(long steps) => (double)steps * options.BatchSize * options.SequenceLength / sampler.TokenCount;

    public double Validate() => Evaluate(model, options, validationSampler ?? throw new InvalidOperationException("This run has no validation tokens."));

    /// <summary>Mean loss over the options' fixed evaluation windows of <paramref name="sampler"/>'s tokens, without gradients.</summary>
    public static double Evaluate(TorchGptModel model, LanguageModelTrainingOptions options, TokenBatchSampler sampler)
    {
        var inputs = new int[options.BatchSize * options.SequenceLength];
        var targets = new int[inputs.Length];
        double sum = 0;
        model.eval();
        using var noGradient = no_grad();
        for (var batch = 0; batch < options.EvaluationBatches; batch++)
        {
            sampler.SampleEvaluation(batch, options.EvaluationBatches * options.BatchSize, inputs, targets);
            using var scope = NewDisposeScope();
            sum += BatchLoss(model, inputs, targets, options.BatchSize, options.SequenceLength).item<float>();
        }

        return sum / options.EvaluationBatches;
    }

    /// <summary>The mean next-token loss of one batch [B, T], on the model's device.</summary>
    public static Tensor BatchLoss(TorchGptModel model, ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int batchSize, int tokenCount)
    {
        var tokenTensor = ToDevice(model.Device, inputs, batchSize, tokenCount);
        var targetTensor = ToDevice(model.Device, targets, batchSize, tokenCount);
        return TorchGptModel.Loss(model.forward(tokenTensor), targetTensor);
    }

    /// <summary>Ids [B, T] as an int64 tensor on <paramref name="device"/>.</summary>
    public static Tensor ToDevice(Device device, ReadOnlySpan<int> ids, int batchSize, int tokenCount)
    {
        var values = new long[ids.Length];
        for (var index = 0; index < ids.Length; index++) values[index] = ids[index];
        return tensor(values, new long[] { batchSize, tokenCount }, device: device);
    }

    public void Dispose() => loss?.Dispose();
}
