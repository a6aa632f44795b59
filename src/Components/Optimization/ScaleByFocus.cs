using System.Runtime.Intrinsics;
using Pipelines.Components.Schedules;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>The FOCUS step: sign momentum plus an attraction toward the moving average of the parameters.</summary>
/// <remarks>
/// Liu, Liu &amp; Gore, "FOCUS: First Order Concentrated Updating Scheme", arXiv 2501.12243. Elementwise, at step t:
/// <code>
/// m    = b1*m + (1-b1)*g
/// pbar = b2*pbar + (1-b2)*theta
/// phat = pbar / (1 - b2^t)
/// theta &lt;- theta - lr*wd*phat                                   (TowardEmaBeforeStep, the paper)
/// theta &lt;- theta - lr*(sign(m) + gamma*sign(theta - phat))
/// </code>
/// <see cref="FocusWeightDecayPlacement"/> offers the official code's and the toy script's decay placements too.
/// sign(0) = 0, and at t = 1 <c>phat = theta</c> so the attraction is 0 (except that the paper's placement first
/// decays theta, so with wd &gt; 0 the attraction pulls back toward <c>phat</c> at once). The sign of
/// <c>theta - phat</c> is computed as the sign of <c>(1-b2^t)*theta - pbar</c>, which is exactly 0 at t = 1 in float.
/// <para>
/// Unlike the other building blocks this one produces the final update (learning rate included): the paper's
/// placement needs <c>lr*wd</c> inside the step. So it is not followed by <see cref="ScaleByLearningRate"/>; its
/// state exposes the schedule through <see cref="ILearningRateState"/>. With gamma = 0 and b2 = 0 it is Signum.
/// </para>
/// </remarks>
public sealed class ScaleByFocus : IGradientTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="learningRate">The learning-rate schedule (update s uses <c>ValueAt(s - 1)</c>).</param>
    /// <param name="beta1">Momentum decay (reference code: 0.9).</param>
    /// <param name="beta2">Parameter-average decay (reference code: 0.999; the GPT-2 runs used 0.99).</param>
    /// <param name="gamma">Attraction strength (reference code: 0.1; the GPT-2 runs used 0.2).</param>
    /// <param name="weightDecay">Weight decay (reference code: 0; the GPT-2 runs used 0.2).</param>
    /// <param name="placement">Where the decay applies.</param>
    /// <param name="decays">The parameters that decay; null means all of those in the context. Called for each piece of a slice a thread updates, so possibly from several threads at once: keep it a pure function of the slice.</param>
    /// <exception cref="ArgumentOutOfRangeException">A beta outside [0, 1), or gamma or the decay negative or not finite.</exception>
    public ScaleByFocus(
        ISchedule learningRate,
        double beta1 = 0.9,
        double beta2 = 0.999,
        double gamma = 0.1,
        double weightDecay = 0,
        FocusWeightDecayPlacement placement = FocusWeightDecayPlacement.TowardEmaBeforeStep,
        Func<ParameterSlice, bool>? decays = null)
    {
        LearningRate = OptionGuard.NotNull(learningRate, nameof(learningRate));
        Beta1 = OptionGuard.DecayRate(beta1, nameof(beta1));
        Beta2 = OptionGuard.DecayRate(beta2, nameof(beta2));
        Gamma = OptionGuard.NonNegative(gamma, nameof(gamma));
        WeightDecay = OptionGuard.NonNegative(weightDecay, nameof(weightDecay));
        if (!Enum.IsDefined(placement)) throw new ArgumentOutOfRangeException(nameof(placement), placement, "Unknown weight-decay placement.");
        Placement = placement;
        Decays = decays;
    }

    /// <summary>The learning-rate schedule.</summary>
    public ISchedule LearningRate { get; }

    /// <summary>Momentum decay.</summary>
    public double Beta1 { get; }

    /// <summary>Parameter-average decay.</summary>
    public double Beta2 { get; }

    /// <summary>Attraction strength.</summary>
    public double Gamma { get; }

    /// <summary>Weight decay.</summary>
    public double WeightDecay { get; }

    /// <summary>Where the decay applies.</summary>
    public FocusWeightDecayPlacement Placement { get; }

    /// <summary>The parameters that decay (null: all).</summary>
    public Func<ParameterSlice, bool>? Decays { get; }

    /// <inheritdoc />
    public TransformState Init(ParameterArena arena)
    {
        ArgumentNullException.ThrowIfNull(arena);
        return new ScaleByFocusState(this, arena.BufferLength);
    }

    /// <inheritdoc />
    public unsafe void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        var focusState = TransformGuard.StateAs<ScaleByFocusState>(state, nameof(ScaleByFocus));
        TransformGuard.CheckBuffers(updates, parameters, context);
        TransformGuard.CheckStateLength(focusState.Momentum.Length, updates.Length, nameof(ScaleByFocus));
        var rate = TransformGuard.LearningRateAt(LearningRate, context.Step);
        focusState.LastLearningRate = rate;
        var coefficients = CoefficientsAt(context.Step, rate);
        fixed (float* updatesPointer = updates)
        fixed (float* parametersPointer = parameters)
        {
            var job = (Transform: this, Updates: (nint)updatesPointer, Parameters: (nint)parametersPointer,
                focusState.Momentum, focusState.ParameterAverage, Coefficients: coefficients);
            ElementChunks.For(context, job, static (in job, slice, offset, length) =>
            {
                var update = new Span<float>((float*)job.Updates + offset, length);
                var theta = new ReadOnlySpan<float>((float*)job.Parameters + offset, length);
                var momentum = job.Momentum.AsSpan(offset, length);
                var average = job.ParameterAverage.AsSpan(offset, length);
                var weightDecay = job.Transform.WeightDecayOf(slice);
                var done = Vector512.IsHardwareAccelerated
                    ? Apply<Vector512Value>(0, update, theta, momentum, average, job.Coefficients, weightDecay)
                    : Apply<VectorValue>(0, update, theta, momentum, average, job.Coefficients, weightDecay);
                Apply<FloatValue>(done, update, theta, momentum, average, job.Coefficients, weightDecay);
            });
        }
    }

    /// <summary>The float coefficients of update <paramref name="step"/> (from 1) at learning rate <paramref name="rate"/>, the same on every backend.</summary>
    internal FocusCoefficients CoefficientsAt(long step, double rate) => new(
        (float)Beta1, (float)(1 - Beta1), (float)Beta2, (float)(1 - Beta2), (float)(1 - Math.Pow(Beta2, step)), (float)Gamma, (float)-rate, Placement);

    /// <summary>The weight decay of <paramref name="slice"/>: <see cref="WeightDecay"/> where <see cref="Decays"/> selects it, else 0.</summary>
    internal float WeightDecayOf(ParameterSlice slice) => Decays is null || Decays(slice) ? (float)WeightDecay : 0f;

    /// <summary>The formula, for every backend (see the remarks of <see cref="ScaleByFocus"/>).</summary>
    /// <remarks>
    /// With <c>c2 = 1-b2^t</c>, <c>phat = pbar / c2</c> and <c>-lr</c> the coefficients' negative rate:
    /// <code>
    /// m = b1*m + (1-b1)*g;   pbar = b2*pbar + (1-b2)*theta
    /// TowardEmaBeforeStep: d = (-lr*wd)*phat;  u = d + (sign(m) + gamma*sign(c2*(theta + d) - pbar)) * -lr
    /// TowardEmaAfterStep:  u = (sign(m) + gamma*sign(c2*theta - pbar)) * -lr + (-lr*wd)*phat
    /// Plain:               u = (theta*wd + sign(m) + gamma*sign(c2*theta - pbar)) * -lr
    /// </code>
    /// </remarks>
    /// <returns>The new momentum and parameter average, and the update.</returns>
    internal static (T Momentum, T Average, T Update) Formula<T>(T gradient, T theta, T momentum, T average, in FocusCoefficients coefficients, float weightDecay)
        where T : IUpdateArithmetic<T>
    {
        momentum = T.Keep(ScaleByMomentum.MovingAverage(gradient, momentum, coefficients.Beta1, coefficients.OneMinusBeta1));
        average = T.Keep(ScaleByMomentum.MovingAverage(theta, average, coefficients.Beta2, coefficients.OneMinusBeta2));
        var (correction2, gamma, negativeRate) = (coefficients.Correction2, coefficients.Gamma, coefficients.NegativeRate);
        switch (coefficients.Placement)
        {
            case FocusWeightDecayPlacement.TowardEmaBeforeStep:
            {
                var decay = T.Keep(negativeRate * weightDecay * (average / correction2));
                var direction = T.Sign(momentum) + gamma * T.Sign(correction2 * (theta + decay) - average);
                return (momentum, average, decay + direction * negativeRate);
            }

            case FocusWeightDecayPlacement.TowardEmaAfterStep:
            {
                var direction = T.Sign(momentum) + gamma * T.Sign(correction2 * theta - average);
                return (momentum, average, direction * negativeRate + negativeRate * weightDecay * (average / correction2));
            }

            default:
            {
                // The same float operations as Signum's chain (momentum, sign, decayed weights, rate) when gamma = 0.
                var direction = T.Sign(momentum) + gamma * T.Sign(correction2 * theta - average);
                return (momentum, average, (theta * weightDecay + direction) * negativeRate);
            }
        }
    }

    private static int Apply<TLanes>(int start, Span<float> update, ReadOnlySpan<float> theta, Span<float> momentum, Span<float> average,
        in FocusCoefficients coefficients, float weightDecay) where TLanes : ILanes<TLanes>
    {
        var element = start;
        for (; element <= update.Length - TLanes.Count; element += TLanes.Count)
        {
            var (newMomentum, newAverage, newUpdate) = Formula(
                TLanes.Load(update, element), TLanes.Load(theta, element), TLanes.Load(momentum, element), TLanes.Load(average, element), coefficients, weightDecay);
            newMomentum.Store(momentum, element);
            newAverage.Store(average, element);
            newUpdate.Store(update, element);
        }

        return element;
    }
}

/// <summary>The float coefficients of one <see cref="ScaleByFocus"/> step.</summary>
internal readonly record struct FocusCoefficients(
    float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2, float Correction2, float Gamma, float NegativeRate, FocusWeightDecayPlacement Placement);

/// <summary>The state of <see cref="ScaleByFocus"/>: momentum and parameter average, laid out like the arena.</summary>
public sealed class ScaleByFocusState : TransformState, IParameterBufferState, ILearningRateState
{
    internal ScaleByFocusState(ScaleByFocus transform, int bufferLength)
    {
        LearningRate = transform.LearningRate;
        Beta1 = transform.Beta1;
        Beta2 = transform.Beta2;
        Gamma = transform.Gamma;
        WeightDecay = transform.WeightDecay;
        Placement = transform.Placement;
        Momentum = new float[bufferLength];
        ParameterAverage = new float[bufferLength];
        Buffers = [Momentum, ParameterAverage];
    }

    /// <inheritdoc />
    public override string Kind => nameof(ScaleByFocus);

    /// <inheritdoc />
    public ISchedule LearningRate { get; }

    /// <inheritdoc />
    public double LastLearningRate { get; internal set; }

    /// <summary>Momentum decay (hyperparameter).</summary>
    public double Beta1 { get; }

    /// <summary>Parameter-average decay (hyperparameter).</summary>
    public double Beta2 { get; }

    /// <summary>Attraction strength (hyperparameter).</summary>
    public double Gamma { get; }

    /// <summary>Weight decay (hyperparameter).</summary>
    public double WeightDecay { get; }

    /// <summary>Where the decay applies (hyperparameter).</summary>
    public FocusWeightDecayPlacement Placement { get; }

    /// <summary>The gradient momentum m (moving average, not bias-corrected).</summary>
    public float[] Momentum { get; }

    /// <summary>The parameter moving average pbar (not bias-corrected).</summary>
    public float[] ParameterAverage { get; }

    /// <inheritdoc />
    public IReadOnlyList<float[]> Buffers { get; }

    /// <inheritdoc />
    public override void Write(BinaryWriter writer)
    {
        WriteKind(writer);
        writer.Write(LastLearningRate);
        WriteBuffer(writer, Momentum);
        WriteBuffer(writer, ParameterAverage);
    }

    /// <inheritdoc />
    public override void Read(BinaryReader reader)
    {
        ReadKind(reader);
        LastLearningRate = reader.ReadDouble();
        ReadBuffer(reader, Momentum, nameof(Momentum));
        ReadBuffer(reader, ParameterAverage, nameof(ParameterAverage));
    }
}
