using System.Runtime.Intrinsics;
using Pipelines.Components.Schedules;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Multiplies the updates by <c>-lr</c>, the rate taken from a schedule: the last transform of most chains.</summary>
/// <remarks>
/// As optax's <c>scale_by_learning_rate</c>. Update <c>s</c> (counting from 1) uses <c>schedule.ValueAt(s - 1)</c>.
/// A rate that is negative, NaN or infinite throws <see cref="InvalidOperationException"/> naming the step.
/// </remarks>
public sealed class ScaleByLearningRate : IGradientTransform
{
    /// <summary>Scales by the rate the schedule gives at each step.</summary>
    public ScaleByLearningRate(ISchedule learningRate) => LearningRate = OptionGuard.NotNull(learningRate, nameof(learningRate));

    /// <summary>Scales by a constant rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is negative, NaN or infinite.</exception>
    public ScaleByLearningRate(double learningRate) : this(new ConstantSchedule(OptionGuard.NonNegative(learningRate, nameof(learningRate))))
    {
    }

    /// <summary>The schedule.</summary>
    public ISchedule LearningRate { get; }

    /// <inheritdoc />
    public TransformState Init(ParameterArena arena) => new ScaleByLearningRateState(LearningRate);

    /// <inheritdoc />
    public unsafe void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        var rateState = TransformGuard.StateAs<ScaleByLearningRateState>(state, nameof(ScaleByLearningRate));
        TransformGuard.CheckBuffers(updates, parameters, context);
        var rate = TransformGuard.LearningRateAt(LearningRate, context.Step);
        rateState.LastLearningRate = rate;
        fixed (float* updatesPointer = updates)
        {
            ElementChunks.For(context, (Updates: (nint)updatesPointer, Factor: (float)-rate), static (in job, _, offset, length) =>
            {
                var update = new Span<float>((float*)job.Updates + offset, length);
                var done = Vector512.IsHardwareAccelerated ? Apply<Vector512Value>(0, update, job.Factor) : Apply<VectorValue>(0, update, job.Factor);
                Apply<FloatValue>(done, update, job.Factor);
            });
        }
    }

    /// <summary>The formula, for every backend: <c>u = u * (-lr)</c>, the factor <c>(float)-lr</c>.</summary>
    internal static T Formula<T>(T update, float factor) where T : IUpdateArithmetic<T> => update * factor;

    private static int Apply<TLanes>(int start, Span<float> update, float factor) where TLanes : ILanes<TLanes>
    {
        var element = start;
        for (; element <= update.Length - TLanes.Count; element += TLanes.Count) Formula(TLanes.Load(update, element), factor).Store(update, element);
        return element;
    }
}

/// <summary>The state of <see cref="ScaleByLearningRate"/>: the schedule and the last rate, for reports.</summary>
public sealed class ScaleByLearningRateState : TransformState, ILearningRateState
{
    internal ScaleByLearningRateState(ISchedule learningRate) => LearningRate = learningRate;

    /// <inheritdoc />
    public override string Kind => nameof(ScaleByLearningRate);

    /// <inheritdoc />
    public ISchedule LearningRate { get; }

    /// <inheritdoc />
    public double LastLearningRate { get; internal set; }

    /// <inheritdoc />
    public override void Write(BinaryWriter writer)
    {
        WriteKind(writer);
        writer.Write(LastLearningRate);
    }

    /// <inheritdoc />
    public override void Read(BinaryReader reader)
    {
        ReadKind(reader);
        LastLearningRate = reader.ReadDouble();
    }
}
