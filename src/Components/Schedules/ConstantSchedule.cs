namespace Pipelines.Components.Schedules;

/// <summary>The same rate at every step.</summary>
public sealed record ConstantSchedule : ISchedule
{
    /// <summary>Creates a constant schedule.</summary>
    /// <param name="value">The rate; finite and &gt;= 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative, NaN or infinite.</exception>
    public ConstantSchedule(double value) => Value = ScheduleGuard.Rate(value, nameof(value));

    /// <summary>The rate at every step.</summary>
    public double Value { get; }

    /// <inheritdoc />
    public double ValueAt(long step)
    {
        ScheduleGuard.Step(step);
        return Value;
    }
}
