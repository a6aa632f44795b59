using Pipelines.Components.Models;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Privacy;

/// <summary>
/// An encoder's per-example clipping that also keeps what the run reports: the sampled examples' losses and tokens,
/// and for a controller their per-group norms (<see cref="ControllerStatistics"/>). None of it is privatised: report
/// it, never publish it.
/// </summary>
internal sealed class RecordingClippedGradients(EncoderClassifier model, EncoderPerExampleClipping inner, LabeledSequences data, ControllerStatistics statistics)
    : IPerExampleClippedGradients
{
    public ParameterArena Parameters => inner.Parameters;

    public ClippingGroups Groups => inner.Groups;

    public int ExampleCount => inner.ExampleCount;

    /// <summary>Sum of the sampled examples' losses since <see cref="ResetStep"/>.</summary>
    public double LossSum { get; private set; }

    /// <summary>Examples sampled since <see cref="ResetStep"/>.</summary>
    public int ExamplesThisStep { get; private set; }

    /// <summary>Tokens of the examples sampled since <see cref="ResetStep"/>.</summary>
    public long TokensThisStep { get; private set; }

    public bool IsTrainable(ParameterSlice parameter) => inner.IsTrainable(parameter);

    public PerExampleClippingReport AddClippedGradients(ReadOnlySpan<int> examples)
    {
        var report = inner.AddClippedGradients(examples);
        if (report.BatchSize == 0) return report;
        double lossSum = 0;
        foreach (var loss in model.Losses) lossSum += loss;
        LossSum += lossSum;
        ExamplesThisStep += report.BatchSize;
        foreach (var example in examples) TokensThisStep += data.Sequences[example].Length;
        statistics.Add(report.BatchSize, report.ClippedCount, lossSum, report.GroupNorms);
        return report;
    }

    /// <summary>Starts a new step's loss and tokens.</summary>
    public void ResetStep() => (LossSum, ExamplesThisStep, TokensThisStep) = (0, 0, 0);
}
