using Pipelines.Components.Models;

namespace Pipelines.Components.Training;

/// <summary>
/// Sequence classification as an <see cref="ITrainingTask"/>: step s trains on the examples the
/// <see cref="SequenceBatchSampler"/> chooses for s, padded into one batch; validation runs over every example.
/// </summary>
/// <remarks>
/// The loss is the batch's mean cross-entropy <c>L = −(1/B) Σᵢ ln p(yᵢ | xᵢ)</c>; with per-example loss weights it is
/// their weighted mean (<see cref="ExampleWeighting"/>).
/// </remarks>
internal sealed class ClassifierTask : ITrainingTask
{
    private readonly EncoderClassifier model;
    private readonly ClassifierTrainerOptions options;
    private readonly LabeledSequences? validation;
    private readonly ClassifierBatches batches;
    private readonly PaddedSequenceBatch batch;
    private readonly float[]? exampleWeights;
    private readonly float[] lossGradients;

    public ClassifierTask(EncoderClassifier model, ClassifierTrainerOptions options, LabeledSequences training, LabeledSequences? validation, float[]? exampleWeights = null)
    {
        this.exampleWeights = exampleWeights;
        lossGradients = new float[options.BatchSize];
        this.model = model;
        this.options = options;
        this.validation = validation;
        batches = new ClassifierBatches(training, options);
        batch = batches.Batch;
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
        var mean = model.Forward(batch.Tokens, batch.KeyMask, batch.Labels, batch.BatchSize, batch.TokenCount);
        if (exampleWeights is null) return mean;
        ExampleWeighting.LossFactors(exampleWeights, batches.ExampleIndices, lossGradients);
        double loss = 0;
        for (var row = 0; row < batch.BatchSize; row++) loss += lossGradients[row] * (double)model.Losses[row];
        return loss;
    }

    public void Backward()
    {
        if (exampleWeights is null) model.Backward();
        else model.Backward(lossGradients.AsSpan(0, batch.BatchSize));
    }

    public double Epochs(long steps) => batches.Epochs(steps);

    public double Validate()
    {
        LatestValidation = Evaluate(model, options, validation ?? throw new InvalidOperationException("This run has no validation set."));
        return LatestValidation.Loss;
    }

    /// <summary>Mean cross-entropy and accuracy over every example of <paramref name="data"/>, in order, in batches of the options' size.</summary>
    public static ClassifierEvaluation Evaluate(EncoderClassifier model, ClassifierTrainerOptions options, LabeledSequences data)
    {
        var batch = new PaddedSequenceBatch(options.MaximumSequenceLength);
        var exampleIndices = new int[options.BatchSize];
        double lossSum = 0;
        var correct = 0;
        for (var start = 0; start < data.Count; start += options.BatchSize)
        {
            var size = Math.Min(options.BatchSize, data.Count - start);
            for (var slot = 0; slot < size; slot++) exampleIndices[slot] = start + slot;
            batch.Fill(data, exampleIndices.AsSpan(0, size));
            lossSum += (double)model.Forward(batch.Tokens, batch.KeyMask, batch.Labels, batch.BatchSize, batch.TokenCount) * size;
            var probabilities = model.Probabilities;
            for (var row = 0; row < size; row++)
            {
                if (ClassifierTrainer.ArgMax(probabilities.Slice(row * model.ClassCount, model.ClassCount)) == batch.Labels[row]) correct++;
            }
        }

        return new ClassifierEvaluation(lossSum / data.Count, (double)correct / data.Count);
    }
}
