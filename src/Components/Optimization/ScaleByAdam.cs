using System.Runtime.Intrinsics;
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
    public unsafe void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        var adamState = TransformGuard.StateAs<ScaleByAdamState>(state, nameof(ScaleByAdam));
        TransformGuard.CheckBuffers(updates, parameters, context);
        TransformGuard.CheckStateLength(adamState.FirstMoment.Length, updates.Length, nameof(ScaleByAdam));
        var coefficients = CoefficientsAt(context.Step);
        fixed (float* updatesPointer = updates)
        {
            ElementChunks.For(context, (Updates: (nint)updatesPointer, adamState.FirstMoment, adamState.SecondMoment, Coefficients: coefficients),
                static (in job, _, offset, length) =>
                {
                    var update = new Span<float>((float*)job.Updates + offset, length);
                    var first = job.FirstMoment.AsSpan(offset, length);
                    var second = job.SecondMoment.AsSpan(offset, length);
                    var done = Vector512.IsHardwareAccelerated
                        ? Apply<Vector512Value>(0, update, first, second, job.Coefficients)
                        : Apply<VectorValue>(0, update, first, second, job.Coefficients);
                    Apply<FloatValue>(done, update, first, second, job.Coefficients);
                });
        }
    }

    /// <summary>The step's float coefficients, computed in double and rounded once, the same on every backend.</summary>
    internal AdamCoefficients CoefficientsAt(long step) => new(
        (float)Beta1, (float)Beta2, (float)(1 - Beta1), (float)(1 - Beta2),
        (float)(1 - Math.Pow(Beta1, step)), (float)(1 - Math.Pow(Beta2, step)), (float)Epsilon);

    /// <summary>
    /// The formula, for every backend: <c>m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g; u = m / c1 / (sqrt(v / c2) + eps)</c>
    /// with <c>c1 = 1-b1^t</c>, <c>c2 = 1-b2^t</c>.
    /// </summary>
    /// <returns>The new first and second moments and the update.</returns>
    internal static (T First, T Second, T Update) Formula<T>(T gradient, T first, T second, in AdamCoefficients coefficients)
        where T : IUpdateArithmetic<T>
    {
        first = T.Keep(coefficients.Beta1 * first + coefficients.OneMinusBeta1 * gradient);
        second = T.Keep(coefficients.Beta2 * second + coefficients.OneMinusBeta2 * gradient * gradient);
        return (first, second, first / coefficients.Correction1 / (T.SquareRoot(second / coefficients.Correction2) + coefficients.Epsilon));
    }

    /// <summary>Runs <see cref="Formula{T}"/> over the elements from <paramref name="start"/>, <typeparamref name="TLanes"/> at a time, while they fill it.</summary>
    /// <returns>The first element not updated.</returns>
    private static int Apply<TLanes>(int start, Span<float> update, Span<float> first, Span<float> second, in AdamCoefficients coefficients)
        where TLanes : ILanes<TLanes>
    {
        var element = start;
        for (; element <= update.Length - TLanes.Count; element += TLanes.Count)
        {
            var (newFirst, newSecond, newUpdate) = Formula(TLanes.Load(update, element), TLanes.Load(first, element), TLanes.Load(second, element), coefficients);
            newFirst.Store(first, element);
            newSecond.Store(second, element);
            newUpdate.Store(update, element);
        }

        return element;
    }
}

/// <summary>The float coefficients of one <see cref="ScaleByAdam"/> step.</summary>
internal readonly record struct AdamCoefficients(
    float Beta1, float Beta2, float OneMinusBeta1, float OneMinusBeta2, float Correction1, float Correction2, float Epsilon);

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
