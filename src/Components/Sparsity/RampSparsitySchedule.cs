namespace Pipelines.Components.Sparsity;

/// <summary>
/// A sparsity ramp from s_i at t0 to s_f at t1 on a pruning calendar: pruning at t0, every dt steps after it,
/// and at t1, where the final sparsity is reached exactly; s_i before t0, s_f from t1 on. t0 = round(startFraction T),
/// t1 = round(endFraction T); when t0 = t1 the schedule prunes once, to s_f, at t0. Subclasses give the ramp's shape.
/// </summary>
public abstract class RampSparsitySchedule : ISparsitySchedule
{
    private readonly PruningCalendar calendar;

    /// <summary>Validates the arguments and lays out the pruning calendar.</summary>
    /// <param name="initialSparsity">s_i, the target at t0 (usually 0); at most <paramref name="finalSparsity"/>.</param>
    /// <param name="finalSparsity">s_f, in [0, 1).</param>
    /// <param name="totalSteps">T, the run's length in updates.</param>
    /// <param name="pruningInterval">dt, at least 1.</param>
    /// <param name="startFraction">t0 / T, in [0, 1].</param>
    /// <param name="endFraction">t1 / T, in [startFraction, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range (the exception names it).</exception>
    protected RampSparsitySchedule(double initialSparsity, double finalSparsity, long totalSteps, long pruningInterval, double startFraction = 0.25, double endFraction = 0.75)
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

    /// <summary>t1, the last pruning step, where <see cref="FinalSparsity"/> is reached.</summary>
    public long EndStep => calendar.EndStep;

    /// <summary>dt.</summary>
    public long PruningInterval => calendar.Interval;

    /// <inheritdoc />
    public double TargetSparsityAt(long step)
    {
        PruningCalendar.ValidateStep(step);
        if (step >= calendar.EndStep) return FinalSparsity;
        if (step < calendar.StartStep) return InitialSparsity;
        return RampAt((double)(step - calendar.StartStep) / (calendar.EndStep - calendar.StartStep));
    }

    /// <summary>The target sparsity a fraction <paramref name="progress"/> in [0, 1) of the way from t0 to t1.</summary>
    protected abstract double RampAt(double progress);

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
