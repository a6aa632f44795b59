namespace Pipelines.Components.Schedules;

/// <summary>A learning-rate schedule: a pure function of the step.</summary>
/// <remarks>Schedules hold no mutable state; the step lives in the optimizer state and the checkpoint.</remarks>
public interface ISchedule
{
    /// <summary>The value at <paramref name="step"/> (0 is the first update).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    double ValueAt(long step);
}
