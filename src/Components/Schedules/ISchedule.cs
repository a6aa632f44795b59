namespace Pipelines.Components.Schedules;

/// <summary>A learning-rate schedule: a pure function of the step.</summary>
/// <remarks>
/// Schedules hold no mutable state; the step lives in the optimizer state and the checkpoint. Step 0 is the first
/// update. Implementations here: <see cref="ConstantSchedule"/>, <see cref="LinearWarmupSchedule"/>,
/// <see cref="CosineSchedule"/>, <see cref="CyclicCosineSchedule"/>, <see cref="WarmupStableDecaySchedule"/>
/// (phases in a <see cref="PhaseLayout"/>), <see cref="WsdsPlan"/> and <see cref="JoinedSchedule"/>
/// (<see cref="Schedule.Join"/>). Plans that a checkpoint must keep serialise to JSON and report how a changed
/// plan differs (<see cref="PhaseLayout.DescribeDifferences"/>), so a resumed run can refuse a silent change.
/// </remarks>
public interface ISchedule
{
    /// <summary>The value at <paramref name="step"/> (0 is the first update).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    double ValueAt(long step);
}
