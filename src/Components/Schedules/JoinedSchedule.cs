namespace Pipelines.Components.Schedules;

/// <summary>Schedules run one after another, switching at given steps; each later one restarts its own count.</summary>
/// <remarks>
/// As optax's <c>join_schedules</c>: with boundaries <c>b_1 &lt; b_2 &lt; ...</c>, schedule <c>k</c> (from 0) runs on
/// <c>b_k &lt;= s &lt; b_(k+1)</c> (with <c>b_0 = 0</c>) and sees step <c>s - b_k</c>.
/// </remarks>
public sealed class JoinedSchedule : ISchedule
{
    private readonly ISchedule[] _schedules;
    private readonly long[] _boundaries;

    /// <summary>Joins <paramref name="schedules"/> at <paramref name="boundaries"/>.</summary>
    /// <param name="schedules">One or more schedules, in order.</param>
    /// <param name="boundaries">One fewer than the schedules: strictly increasing steps, each &gt;= 1.</param>
    /// <exception cref="ArgumentException">No schedules, a null schedule, or the wrong number of boundaries.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A boundary below 1 or not above the one before.</exception>
    public JoinedSchedule(IReadOnlyList<ISchedule> schedules, IReadOnlyList<long> boundaries)
    {
        ArgumentNullException.ThrowIfNull(schedules);
        ArgumentNullException.ThrowIfNull(boundaries);
        if (schedules.Count == 0) throw new ArgumentException("At least one schedule is needed.", nameof(schedules));
        for (var index = 0; index < schedules.Count; index++)
            if (schedules[index] is null) throw new ArgumentException($"schedules[{index}] is null.", nameof(schedules));
        if (boundaries.Count != schedules.Count - 1)
            throw new ArgumentException($"{schedules.Count} schedules need {schedules.Count - 1} boundaries; got {boundaries.Count}.", nameof(boundaries));
        for (var index = 0; index < boundaries.Count; index++)
        {
            var previous = index == 0 ? 0 : boundaries[index - 1];
            if (boundaries[index] <= previous)
                throw new ArgumentOutOfRangeException(nameof(boundaries), boundaries[index],
                    $"boundaries[{index}] = {boundaries[index]} must be above {previous} (boundaries are strictly increasing steps >= 1).");
        }

        _schedules = [.. schedules];
        _boundaries = [.. boundaries];
    }

    /// <summary>The joined schedules, in order.</summary>
    public IReadOnlyList<ISchedule> Schedules => _schedules;

    /// <summary>The steps where each schedule after the first takes over.</summary>
    public IReadOnlyList<long> Boundaries => _boundaries;

    /// <inheritdoc />
    public double ValueAt(long step)
    {
        ScheduleGuard.Step(step);
        var index = Array.BinarySearch(_boundaries, step);
        // An exact hit belongs to the schedule that starts there; a miss returns ~(count of boundaries below step).
        var segment = index >= 0 ? index + 1 : ~index;
        var offset = segment == 0 ? 0 : _boundaries[segment - 1];
        return _schedules[segment].ValueAt(step - offset);
    }
}
