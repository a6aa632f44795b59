using Pipelines.Components.Models;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Privacy;

/// <summary>
/// An encoder's per-example clipping that also keeps what the run reports: the sampled examples' losses, and for a
/// controller their per-group norms. Neither is privatised: report them, never publish them.
/// </summary>
internal sealed class RecordingClippedGradients(EncoderClassifier model, EncoderPerExampleClipping inner, LabeledSequences data) : IPerExampleClippedGradients
{
    private readonly List<double> groupNorms = [];
    private double lossSumSinceReset;

    public ParameterArena Parameters => inner.Parameters;

    public ClippingGroups Groups => inner.Groups;

    public int ExampleCount => inner.ExampleCount;

    /// <summary>Sum of the sampled examples' losses since <see cref="ResetStep"/>.</summary>
    public double LossSum { get; private set; }

    /// <summary>Examples sampled since <see cref="ResetStep"/>.</summary>
    public int ExamplesThisStep { get; private set; }

    /// <summary>Tokens of the examples sampled since <see cref="ResetStep"/>.</summary>
    public long TokensThisStep { get; private set; }

    /// <summary>Mean loss of the examples sampled since <see cref="ResetStatistics"/> (NaN when none).</summary>
    public double MeanLossSinceReset => ExamplesSinceReset == 0 ? double.NaN : lossSumSinceReset / ExamplesSinceReset;

    /// <summary>Examples clipped since <see cref="ResetStatistics"/>.</summary>
    public int ClippedSinceReset { get; private set; }

    /// <summary>Examples sampled since <see cref="ResetStatistics"/>.</summary>
    public int ExamplesSinceReset { get; private set; }

    public bool IsTrainable(ParameterSlice parameter) => inner.IsTrainable(parameter);

    public PerExampleClippingReport AddClippedGradients(ReadOnlySpan<int> examples)
    {
        var report = inner.AddClippedGradients(examples);
        if (report.BatchSize == 0) return report;
        foreach (var loss in model.Losses)
        {
            LossSum += loss;
            lossSumSinceReset += loss;
        }

        foreach (var example in examples) TokensThisStep += data.Sequences[example].Length;
        ExamplesThisStep += report.BatchSize;
        ExamplesSinceReset += report.BatchSize;
        ClippedSinceReset += report.ClippedCount;
        groupNorms.AddRange(report.GroupNorms);
        return report;
    }

    /// <summary>Starts a new step's loss.</summary>
    public void ResetStep() => (LossSum, ExamplesThisStep, TokensThisStep) = (0, 0, 0);

    /// <summary>The median norm of each group since <see cref="ResetStatistics"/> (NaN when nothing was sampled).</summary>
    public double[] GroupNormMedians()
    {
        var groups = Groups.Count;
        var medians = new double[groups];
        for (var group = 0; group < groups; group++)
        {
            var values = new List<double>();
            for (var index = group; index < groupNorms.Count; index += groups) values.Add(groupNorms[index]);
            values.Sort();
            medians[group] = values.Count == 0 ? double.NaN : values[values.Count / 2];
        }

        return medians;
    }

    /// <summary>Starts new controller statistics.</summary>
    public void ResetStatistics()
    {
        groupNorms.Clear();
        (ClippedSinceReset, ExamplesSinceReset, lossSumSinceReset) = (0, 0, 0);
    }
}
