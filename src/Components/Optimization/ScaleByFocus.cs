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
    /// <param name="decays">The parameters that decay; null means all of those in the context.</param>
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
    public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        var focusState = TransformGuard.StateAs<ScaleByFocusState>(state, nameof(ScaleByFocus));
        TransformGuard.CheckBuffers(updates, parameters, context);
        TransformGuard.CheckStateLength(focusState.Momentum.Length, updates.Length, nameof(ScaleByFocus));
        var rate = TransformGuard.LearningRateAt(LearningRate, context.Step);
        focusState.LastLearningRate = rate;
        var negativeRate = (float)-rate;
        var correction2 = (float)(1 - Math.Pow(Beta2, context.Step));
        var gamma = (float)Gamma;
        var slices = context.Parameters;
        for (var index = 0; index < slices.Count; index++)
        {
            var slice = slices[index];
            var range = slice.Range;
            var update = updates[range];
            var theta = parameters[range];
            var momentum = focusState.Momentum.AsSpan(range);
            var average = focusState.ParameterAverage.AsSpan(range);
            ScaleByMomentum.MovingAverage(update, momentum, (float)Beta1, (float)(1 - Beta1));
            ScaleByMomentum.MovingAverage(theta, average, (float)Beta2, (float)(1 - Beta2));
            var weightDecay = Decays is null || Decays(slice) ? (float)WeightDecay : 0f;
            switch (Placement)
            {
                case FocusWeightDecayPlacement.TowardEmaBeforeStep:
                    StepDecayingFirst(update, theta, momentum, average, correction2, gamma, weightDecay, negativeRate);
                    break;
                case FocusWeightDecayPlacement.TowardEmaAfterStep:
                    StepDecayingAfter(update, theta, momentum, average, correction2, gamma, weightDecay, negativeRate);
                    break;
                default:
                    StepDecayingPlainly(update, theta, momentum, average, correction2, gamma, weightDecay, negativeRate);
                    break;
            }
        }
    }

    // u = -lr*wd*phat - lr*(sign(m) + gamma*sign(theta' - phat)),  theta' = theta - lr*wd*phat.
    private static void StepDecayingFirst(Span<float> update, ReadOnlySpan<float> theta, ReadOnlySpan<float> momentum, ReadOnlySpan<float> average,
        float correction2, float gamma, float weightDecay, float negativeRate)
    {
        for (var element = 0; element < update.Length; element++)
        {
            var estimate = average[element] / correction2;
            var decay = negativeRate * weightDecay * estimate;
            var decayed = theta[element] + decay;
            var direction = ScaleBySign.Sign(momentum[element]) + gamma * ScaleBySign.Sign(correction2 * decayed - average[element]);
            update[element] = decay + direction * negativeRate;
        }
    }

    // u = -lr*(sign(m) + gamma*sign(theta - phat)) - lr*wd*phat.
    private static void StepDecayingAfter(Span<float> update, ReadOnlySpan<float> theta, ReadOnlySpan<float> momentum, ReadOnlySpan<float> average,
        float correction2, float gamma, float weightDecay, float negativeRate)
    {
        for (var element = 0; element < update.Length; element++)
        {
            var estimate = average[element] / correction2;
            var direction = ScaleBySign.Sign(momentum[element]) + gamma * ScaleBySign.Sign(correction2 * theta[element] - average[element]);
            update[element] = direction * negativeRate + negativeRate * weightDecay * estimate;
        }
    }

    // u = -lr*(sign(m) + gamma*sign(theta - phat) + wd*theta); the same float operations as Signum's chain.
    private static void StepDecayingPlainly(Span<float> update, ReadOnlySpan<float> theta, ReadOnlySpan<float> momentum, ReadOnlySpan<float> average,
        float correction2, float gamma, float weightDecay, float negativeRate)
    {
        for (var element = 0; element < update.Length; element++)
        {
            var direction = ScaleBySign.Sign(momentum[element]) + gamma * ScaleBySign.Sign(correction2 * theta[element] - average[element]);
            update[element] = (theta[element] * weightDecay + direction) * negativeRate;
        }
    }
}

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
