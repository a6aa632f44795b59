namespace Pipelines.Components.Sparsity;

/// <summary>A straight sparsity ramp from s_i at t0 to s_f at t1, pruning every dt steps.</summary>
/// <remarks>
/// <c>s_t = s_i + (s_f - s_i) (t - t0)/(t1 - t0)</c> for t in [t0, t1]; s_i before, s_f after. A baseline
/// against the cubic ramp of Zhu &amp; Gupta (arXiv 1710.01878); same calendar as
/// <see cref="CubicSparsitySchedule"/> (pruning at t0, every dt, and always at t1).
/// </remarks>
public sealed class LinearSparsitySchedule : ISparsitySchedule
{
    private readonly PruningCalendar calendar;

    /// <summary>Creates the schedule; the arguments mean what they mean for <see cref="CubicSparsitySchedule"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range (the exception names it).</exception>
    public LinearSparsitySchedule(double initialSparsity, double finalSparsity, long totalSteps, long pruningInterval, double startFraction = 0.25, double endFraction = 0.75)
    {
        ScheduleArguments.Validate(initialSparsity, finalSparsity, totalSteps, pruningInterval, startFraction, endFraction);
        (InitialSparsity, FinalSparsity, TotalSteps) = (initialSparsity, finalSparsity, totalSteps);
        calendar = PruningCalendar.FromFractions(totalSteps, startFraction, endFraction, pruningInterval);
    }

    /// <summary>s_i.</summary>
    public double InitialSparsity { get; }

    /// <inheritdoc />
    public double FinalSparsity { get; }

    /// <inheritdoc />
    public long TotalSteps { get; }

    /// <summary>t0, the first pruning step.</summary>
    public long StartStep => calendar.StartStep;

    /// <summary>t1, the last pruning step.</summary>
    public long EndStep => calendar.EndStep;

    /// <summary>dt.</summary>
    public long PruningInterval => calendar.Interval;

    /// <inheritdoc />
    public double TargetSparsityAt(long step)
    {
        PruningCalendar.ValidateStep(step);
        if (step >= calendar.EndStep) return FinalSparsity;
        if (step < calendar.StartStep) return InitialSparsity;
        var progress = (double)(step - calendar.StartStep) / (calendar.EndStep - calendar.StartStep);
        return InitialSparsity + (FinalSparsity - InitialSparsity) * progress;
    }

    /// <inheritdoc />
    public bool IsPruningStep(long step)
    {
        PruningCalendar.ValidateStep(step);
        return calendar.IsPruningStep(step);
    }

    /// <inheritdoc />
    public double AppliedSparsityAt(long step)
    {
        PruningCalendar.ValidateStep(step);
        var latest = calendar.LatestPruningStep(step);
        return latest < 0 ? 0 : TargetSparsityAt(latest);
    }
}
