namespace Pipelines.Components.Training;

/// <summary>
/// The training batches of a classifier run, whatever the backend: step <c>s</c> pads the examples the
/// <see cref="SequenceBatchSampler"/> draws for <c>s</c>, so a resumed run and both backends see the same batches.
/// </summary>
public sealed class ClassifierBatches
{
    private readonly LabeledSequences training;
    private readonly SequenceBatchSampler sampler;
    private readonly int[] exampleIndices;
    private readonly int batchSize;

    /// <summary>Creates the batches of <paramref name="training"/> for a run with <paramref name="options"/>.</summary>
    public ClassifierBatches(LabeledSequences training, ClassifierTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(options);
        this.training = training;
        batchSize = options.BatchSize;
        sampler = new SequenceBatchSampler(training.Count, options.BatchSize, options.Sampling, options.Seed);
        Batch = new PaddedSequenceBatch(options.MaximumSequenceLength);
        exampleIndices = new int[options.BatchSize];
    }

    /// <summary>The batch of the last <see cref="Load"/>.</summary>
    public PaddedSequenceBatch Batch { get; }

    /// <summary>Which training examples the last <see cref="Load"/> put in each row of <see cref="Batch"/>.</summary>
    public ReadOnlySpan<int> ExampleIndices => exampleIndices;

    /// <summary>Fills <see cref="Batch"/> with step <paramref name="step"/>'s examples; returns its count of valid tokens.</summary>
    public long Load(long step)
    {
        sampler.Sample(step, exampleIndices);
        Batch.Fill(training, exampleIndices);
        return Batch.ValidTokenCount;
    }

    /// <summary>Passes over the training data that <paramref name="steps"/> steps make.</summary>
    public double Epochs(long steps) => (double)steps * batchSize / training.Count;
}
