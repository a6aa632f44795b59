using Pipelines.Components.Training;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Backends;

/// <summary>
/// Sequence classification on a <see cref="TorchEncoderClassifier"/> as an <see cref="ITrainingTask"/>: the examples the
/// managed engine's <see cref="SequenceBatchSampler"/> chooses for step s, padded as the engine pads them
/// (<see cref="PaddedSequenceBatch"/>), copied to the device once per step; one loss scalar read per step.
/// </summary>
/// <remarks>The loss is the batch's mean cross-entropy, or with per-example weights <c>Σᵢ gᵢ·ℓᵢ</c> with the factors of <see cref="ExampleWeighting"/>.</remarks>
internal sealed class TorchClassifierTask : ITrainingTask, IDisposable
{
    private readonly TorchEncoderClassifier model;
    private readonly ClassifierTrainerOptions options;
    private readonly LabeledSequences? validation;
    private readonly float[]? exampleWeights;
    private readonly ClassifierBatches batches;
    private readonly PaddedSequenceBatch batch;
    private readonly float[] lossFactors;
    private Tensor? loss;

    public TorchClassifierTask(TorchEncoderClassifier model, ClassifierTrainerOptions options, LabeledSequences training, LabeledSequences? validation, float[]? exampleWeights)
    {
        this.model = model;
        this.options = options;
        this.validation = validation;
        this.exampleWeights = exampleWeights;
        batches = new ClassifierBatches(training, options);
        batch = batches.Batch;
        lossFactors = new float[options.BatchSize];
    }

    public bool HasValidation => validation is not null;

    /// <summary>The last validation's loss and accuracy (null before the first).</summary>
    public ClassifierEvaluation? LatestValidation { get; private set; }

    public long LoadBatch(long step)
    {
        return batches.Load(step);
    }

    public double Forward()
    {
        loss?.Dispose();
        model.train();
        using var scope = NewDisposeScope();
        var logits = Logits(model, batch);
        var labels = TorchLanguageModelTask.ToDevice(model.Device, batch.Labels, batch.BatchSize, 1).reshape(batch.BatchSize);
        Tensor current;
        if (exampleWeights is null)
        {
            current = TorchEncoderClassifier.Loss(logits, labels);
        }
        else
        {
            ExampleWeighting.LossFactors(exampleWeights, batches.ExampleIndices, lossFactors);
            var factors = tensor(lossFactors[..batch.BatchSize], device: model.Device);
            current = (nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.None) * factors).sum();
        }

        loss = current.MoveToOuterDisposeScope();
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

    public double Epochs(long steps) => batches.Epochs(steps);

    public double Validate()
    {
        LatestValidation = Evaluate(model, options, validation ?? throw new InvalidOperationException("This run has no validation set."));
        return LatestValidation.Loss;
    }

    /// <summary>Mean cross-entropy and accuracy over every example of <paramref name="data"/>, in order, in batches of the options' size, without gradients.</summary>
    public static ClassifierEvaluation Evaluate(TorchEncoderClassifier model, ClassifierTrainerOptions options, LabeledSequences data)
    {
        var batch = new PaddedSequenceBatch(options.MaximumSequenceLength);
        var exampleIndices = new int[options.BatchSize];
        double lossSum = 0;
        var correct = 0;
        model.eval();
        using var noGradient = no_grad();
        for (var start = 0; start < data.Count; start += options.BatchSize)
        {
            var size = Math.Min(options.BatchSize, data.Count - start);
            for (var slot = 0; slot < size; slot++) exampleIndices[slot] = start + slot;
            batch.Fill(data, exampleIndices.AsSpan(0, size));
            using var scope = NewDisposeScope();
            var logits = Logits(model, batch);
            var labels = TorchLanguageModelTask.ToDevice(model.Device, batch.Labels, size, 1).reshape(size);
            lossSum += TorchEncoderClassifier.Loss(logits, labels).item<float>() * (double)size;
            correct += (int)logits.argmax(1).eq(labels).sum().item<long>();
        }

        return new ClassifierEvaluation(lossSum / data.Count, (double)correct / data.Count);
    }

    /// <summary>The class logits [B, K] of a padded batch, on the model's device.</summary>
    public static Tensor Logits(TorchEncoderClassifier model, PaddedSequenceBatch batch)
    {
        var tokens = TorchLanguageModelTask.ToDevice(model.Device, batch.Tokens, batch.BatchSize, batch.TokenCount);
        var mask = new int[batch.KeyMask.Length];
        for (var index = 0; index < mask.Length; index++) mask[index] = batch.KeyMask[index];
        return model.forward(tokens, TorchLanguageModelTask.ToDevice(model.Device, mask, batch.BatchSize, batch.TokenCount));
    }

    public void Dispose() => loss?.Dispose();
}
