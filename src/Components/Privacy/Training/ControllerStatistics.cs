namespace Pipelines.Components.Privacy;

/// <summary>
/// What a privacy controller sees of the sampled examples since its last action: per-group gradient norms, how many
/// were clipped, their losses. Not privatised (see <see cref="RldpController"/>); checkpointed with the run.
/// </summary>
internal sealed class ControllerStatistics
{
    private readonly List<double> groupNorms = [];

    /// <summary>Examples sampled since <see cref="Reset"/>.</summary>
    public int ExampleCount { get; private set; }

    /// <summary>Examples clipped since <see cref="Reset"/>.</summary>
    public int ClippedCount { get; private set; }

    /// <summary>Sum of the examples' losses since <see cref="Reset"/>.</summary>
    public double LossSum { get; private set; }

    /// <summary>Fraction of sampled examples clipped (0 when none was sampled).</summary>
    public double ClippedFraction => ExampleCount == 0 ? 0 : (double)ClippedCount / ExampleCount;

    /// <summary>Mean loss of the sampled examples (NaN when none).</summary>
    public double MeanLoss => ExampleCount == 0 ? double.NaN : LossSum / ExampleCount;

    /// <summary>Adds one pass: <paramref name="norms"/> is [B, G] row-major.</summary>
    public void Add(int exampleCount, int clippedCount, double lossSum, IEnumerable<double> norms)
    {
        (ExampleCount, ClippedCount, LossSum) = (ExampleCount + exampleCount, ClippedCount + clippedCount, LossSum + lossSum);
        groupNorms.AddRange(norms);
    }

    /// <summary>The median norm of each of <paramref name="groups"/> groups (NaN when nothing was sampled).</summary>
    public double[] GroupNormMedians(int groups)
    {
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

    /// <summary>Starts a new window.</summary>
    public void Reset()
    {
        groupNorms.Clear();
        (ExampleCount, ClippedCount, LossSum) = (0, 0, 0);
    }

    /// <summary>Writes the window.</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(ExampleCount);
        writer.Write(ClippedCount);
        writer.Write(LossSum);
        writer.Write(groupNorms.Count);
        foreach (var norm in groupNorms) writer.Write(norm);
    }

    /// <summary>Restores what <see cref="Save"/> wrote.</summary>
    public void Load(BinaryReader reader)
    {
        (ExampleCount, ClippedCount, LossSum) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadDouble());
        groupNorms.Clear();
        var count = reader.ReadInt32();
        for (var index = 0; index < count; index++) groupNorms.Add(reader.ReadDouble());
    }
}
