namespace Pipelines.Components.Schedules;

/// <summary>An observed loss curve: the schedule it was trained under and the losses at some steps.</summary>
public sealed class LossCurve
{
    /// <summary>Creates a loss curve.</summary>
    /// <param name="schedule">The learning-rate schedule of the run.</param>
    /// <param name="steps">The steps of the observations (each &gt;= 0; any order).</param>
    /// <param name="losses">The observed losses, one per step, finite and &gt; 0.</param>
    /// <param name="areas">How to take the areas from <paramref name="schedule"/>; null: <see cref="AnnealingAreaOptions.Default"/>.</param>
    /// <exception cref="ArgumentException">No observations, or <paramref name="steps"/> and <paramref name="losses"/> differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative step or a loss that is not finite and positive.</exception>
    public LossCurve(ISchedule schedule, IReadOnlyList<long> steps, IReadOnlyList<double> losses, AnnealingAreaOptions? areas = null)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(losses);
        if (steps.Count == 0) throw new ArgumentException("A loss curve needs at least one observation.", nameof(steps));
        if (steps.Count != losses.Count)
            throw new ArgumentException($"steps has {steps.Count} entries but losses has {losses.Count}.", nameof(losses));
        for (var index = 0; index < steps.Count; index++)
        {
            if (steps[index] < 0)
                throw new ArgumentOutOfRangeException(nameof(steps), steps[index], $"steps[{index}] = {steps[index]} is negative.");
            if (!double.IsFinite(losses[index]) || losses[index] <= 0)
                throw new ArgumentOutOfRangeException(nameof(losses), losses[index], $"losses[{index}] = {losses[index]} must be finite and > 0 (the fit works on log losses).");
        }

        Schedule = schedule;
        Steps = [.. steps];
        Losses = [.. losses];
        Areas = areas ?? AnnealingAreaOptions.Default;
    }

    /// <summary>The learning-rate schedule of the run.</summary>
    public ISchedule Schedule { get; }

    /// <summary>The steps of the observations.</summary>
    public IReadOnlyList<long> Steps { get; }

    /// <summary>The observed losses.</summary>
    public IReadOnlyList<double> Losses { get; }

    /// <summary>How the areas are taken from the schedule.</summary>
    public AnnealingAreaOptions Areas { get; }
}
