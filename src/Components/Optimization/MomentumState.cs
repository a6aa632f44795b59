namespace Pipelines.Components.Optimization;

/// <summary>The state of <see cref="TraceMomentum"/> and <see cref="ScaleByMomentum"/>: one buffer laid out like the arena.</summary>
public sealed class MomentumState : TransformState, IParameterBufferState
{
    internal MomentumState(string kind, double decay, int bufferLength)
    {
        Kind = kind;
        Decay = decay;
        Momentum = new float[bufferLength];
        Buffers = [Momentum];
    }

    /// <inheritdoc />
    public override string Kind { get; }

    /// <summary>The momentum decay rate (hyperparameter).</summary>
    public double Decay { get; }

    /// <summary>The momentum (trace or moving average of the updates).</summary>
    public float[] Momentum { get; }

    /// <inheritdoc />
    public IReadOnlyList<float[]> Buffers { get; }

    /// <inheritdoc />
    public override void Write(BinaryWriter writer)
    {
        WriteKind(writer);
        WriteBuffer(writer, Momentum);
    }

    /// <inheritdoc />
    public override void Read(BinaryReader reader)
    {
        ReadKind(reader);
        ReadBuffer(reader, Momentum, nameof(Momentum));
    }
}
