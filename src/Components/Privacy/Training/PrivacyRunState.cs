using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Privacy;

/// <summary>
/// What a private run's checkpoint holds besides the weights and the optimizer: the accountant's history, the current
/// clipping norms and noise multiplier, and the controller's state, so a resumed run continues them exactly.
/// </summary>
/// <remarks>Takes part in the checkpoint only (<see cref="TrainingCheckpoint"/> saves hooks' states); its per-step calls do nothing.</remarks>
internal sealed class PrivacyRunState(IPrivacyControl? control) : ITrainingHook
{
    /// <summary>The run's controller, or null for fixed settings.</summary>
    public IPrivacyControl? Control => control;

    public RdpAccountant Accountant { get; set; } = new();

    /// <summary>The controller's window of sampled-example statistics.</summary>
    public ControllerStatistics Statistics { get; } = new();

    public double[] ClipNorms { get; set; } = [];

    public double NoiseMultiplier { get; set; }

    public void AfterBackward(long step, ParameterArena arena)
    {
    }

    public void AfterUpdate(long step, ParameterArena arena, IOptimizer optimizer)
    {
    }

    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Accountant.ToJson());
        writer.Write(ClipNorms.Length);
        foreach (var norm in ClipNorms) writer.Write(norm);
        writer.Write(NoiseMultiplier);
        Statistics.Save(writer);
        writer.Write(control is not null);
        control?.SaveState(writer);
    }

    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        Accountant = RdpAccountant.FromJson(reader.ReadString());
        var count = reader.ReadInt32();
        if (count != ClipNorms.Length) throw new InvalidDataException($"The checkpoint holds {count} clipping norms; this run has {ClipNorms.Length} clipping groups.");
        for (var group = 0; group < count; group++) ClipNorms[group] = reader.ReadDouble();
        NoiseMultiplier = reader.ReadDouble();
        Statistics.Load(reader);
        var hasControl = reader.ReadBoolean();
        if (hasControl != control is not null) throw new InvalidDataException("The checkpoint's privacy controller differs from this run's.");
        control?.LoadState(reader);
    }
}
