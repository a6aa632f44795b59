namespace Pipelines.Components.Schedules;

/// <summary>Helpers that build schedules from schedules.</summary>
/// <remarks>
/// Named <c>Schedule</c>, not <c>Schedules</c>: a class of the same name as its namespace cannot be reached by its
/// short name from the sibling namespaces (<c>Pipelines.Components.*</c>), where the namespace wins.
/// </remarks>
public static class Schedule
{
    /// <summary>Joins schedules at boundaries, each later one seeing <c>step - boundary</c> (optax's <c>join_schedules</c>).</summary>
    /// <param name="schedules">One or more schedules, in order.</param>
    /// <param name="boundaries">One fewer than the schedules: strictly increasing steps, each &gt;= 1.</param>
    /// <exception cref="ArgumentException">No schedules, a null schedule, or the wrong number of boundaries.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A boundary below 1 or not above the one before.</exception>
    public static JoinedSchedule Join(IReadOnlyList<ISchedule> schedules, IReadOnlyList<long> boundaries) => new(schedules, boundaries);
}
