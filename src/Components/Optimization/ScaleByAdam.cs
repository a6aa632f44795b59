using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Rescales the updates by Adam's bias-corrected moment estimates.</summary>
/// <remarks>
/// Kingma &amp; Ba, arXiv 1412.6980; as optax's <c>scale_by_adam</c>. Elementwise, at step t:
/// <code>
/// m = b1*m + (1-b1)*g;   v = b2*v + (1-b2)*g^2
/// u = (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
/// </code>
/// At t = 1 this is <c>g / (|g| + eps)</c>, i.e. <c>sign(g)</c> for gradients well above eps. Follow with
/// <see cref="ScaleByLearningRate"/> (and <see cref="AddDecayedWeights"/> before it for AdamW).
/// </remarks>
public sealed class ScaleByAdam : IGradientTransform
{
    /// <summary>Creates the transform with PyTorch's defaults.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A beta outside [0, 1), or <paramref name="epsilon"/> not finite and positive.</exception>
    public ScaleByAdam(double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        Beta1 = OptionGuard.DecayRate(beta1, nameof(beta1));
        Beta2 = OptionGuard.DecayRate(beta2, nameof(beta2));
        Epsilon = OptionGuard.Positive(epsilon, nameof(epsilon));
    }

    /// <summary>Decay rate of the first moment.</summary>
    public double Beta1 { get; }

    /// <summary>Decay rate of the second moment.</summary>
    public double Beta2 { get; }

    /// <summary>Added to the root of the second moment.</summary>
    public double Epsilon { get; }

    /// <inheritdoc />
    public TransformState Init(ParameterArena arena)
    {
        ArgumentNullException.ThrowIfNull(arena);
        return new ScaleByAdamState(this, arena.BufferLength);
    }

    /// <inheritdoc />
    public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        var adamState = TransformGuard.StateAs<ScaleByAdamState>(state, nameof(ScaleByAdam));
        TransformGuard.CheckBuffers(updates, parameters, context);
        TransformGuard.CheckStateLength(adamState.FirstMoment.Length, updates.Length, nameof(ScaleByAdam));
        var beta1 = (float)Beta1;
        var beta2 = (float)Beta2;
        var oneMinusBeta1 = (float)(1 - Beta1);
        var oneMinusBeta2 = (float)(1 - Beta2);
        var correction1 = (float)(1 - Math.Pow(Beta1, context.Step));
        var correction2 = (float)(1 - Math.Pow(Beta2, context.Step));
        var epsilon = (float)Epsilon;
        var slices = context.Parameters;
        for (var index = 0; index < slices.Count; index++)
        {
            var range = slices[index].Range;
            var update = updates[range];
            var first = adamState.FirstMoment.AsSpan(range);
            var second = adamState.SecondMoment.AsSpan(range);
            AdamKernel.Update(update, first, second, beta1, beta2, oneMinusBeta1, oneMinusBeta2, correction1, correction2, epsilon);
        }
    }
}

/// <summary>The state of <see cref="ScaleByAdam"/>: the two moment buffers, laid out like the arena.</summary>
public sealed class ScaleByAdamState : TransformState, IParameterBufferState
{
    internal ScaleByAdamState(ScaleByAdam transform, int bufferLength)
    {
        Beta1 = transform.Beta1;
        Beta2 = transform.Beta2;
        Epsilon = transform.Epsilon;
        FirstMoment = new float[bufferLength];
        SecondMoment = new float[bufferLength];
        Buffers = [FirstMoment, SecondMoment];
    }

    /// <inheritdoc />
    public override string Kind => nameof(ScaleByAdam);

    /// <summary>Decay rate of the first moment (hyperparameter).</summary>
    public double Beta1 { get; }

    /// <summary>Decay rate of the second moment (hyperparameter).</summary>
    public double Beta2 { get; }

    /// <summary>Epsilon (hyperparameter).</summary>
    public double Epsilon { get; }

    /// <summary>The first-moment estimate m (uncorrected).</summary>
    public float[] FirstMoment { get; }

    /// <summary>The second-moment estimate v (uncorrected).</summary>
    public float[] SecondMoment { get; }

    /// <inheritdoc />
    public IReadOnlyList<float[]> Buffers { get; }

    /// <inheritdoc />
    public override void Write(BinaryWriter writer)
    {
        WriteKind(writer);
        WriteBuffer(writer, FirstMoment);
        WriteBuffer(writer, SecondMoment);
    }

    /// <inheritdoc />
    public override void Read(BinaryReader reader)
    {
        ReadKind(reader);
        ReadBuffer(reader, FirstMoment, nameof(FirstMoment));
        ReadBuffer(reader, SecondMoment, nameof(SecondMoment));
    }
}
