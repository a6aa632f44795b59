namespace Pipelines.Components.Sparsity;

/// <summary>The target sparsity of the prunable weights over a run, and the steps at which pruning happens.</summary>
/// <remarks>
/// A pure function of the step. Steps count <em>completed</em> updates: 0 is before training, t is after the
/// t-th update. The mask is fixed between pruning steps, so the sparsity actually applied is a staircase
/// (<see cref="AppliedSparsityAt"/>): the target evaluated at the latest pruning step. The weights used by
/// update t are those masked after step t - 1.
/// </remarks>
public interface ISparsitySchedule
{
    /// <summary>Length of the run in updates.</summary>
    long TotalSteps { get; }

    /// <summary>The sparsity the schedule ends at.</summary>
    double FinalSparsity { get; }

    /// <summary>The schedule's formula at <paramref name="step"/> (whether or not it is a pruning step).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    double TargetSparsityAt(long step);

    /// <summary>Whether the pruner acts after <paramref name="step"/> completed updates.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    bool IsPruningStep(long step);

    /// <summary>The staircase: the target at the latest pruning step at or before <paramref name="step"/>, 0 before the first.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    double AppliedSparsityAt(long step);
}

/// <summary>The shape of the sparsity ramp.</summary>
public enum SparsityScheduleKind
{
    /// <summary>Zhu &amp; Gupta's cubic ramp: <see cref="CubicSparsitySchedule"/>.</summary>
    Cubic,
    /// <summary>A straight ramp: <see cref="LinearSparsitySchedule"/>.</summary>
    Linear,
    /// <summary>All at once at the start step: <see cref="OneShotSparsitySchedule"/>.</summary>
    OneShot,
}

/// <summary>
/// When a ramp schedule prunes: at <see cref="StartStep"/>, every <see cref="Interval"/> steps after it while
/// before <see cref="EndStep"/>, and always at <see cref="EndStep"/> so the final sparsity is reached exactly there.
/// </summary>
internal readonly record struct PruningCalendar(long StartStep, long EndStep, long Interval)
{
    /// <summary>Converts start and end fractions of <paramref name="totalSteps"/> to steps (rounded to nearest).</summary>
    public static PruningCalendar FromFractions(long totalSteps, double startFraction, double endFraction, long interval) =>
        new((long)Math.Round(startFraction * totalSteps, MidpointRounding.AwayFromZero),
            (long)Math.Round(endFraction * totalSteps, MidpointRounding.AwayFromZero), interval);

    public bool IsPruningStep(long step) =>
        step == EndStep || (step >= StartStep && step < EndStep && (step - StartStep) % Interval == 0);

    /// <summary>The latest pruning step at or before <paramref name="step"/>, or -1.</summary>
    public long LatestPruningStep(long step) =>
        step < StartStep ? -1 : step >= EndStep ? EndStep : StartStep + (step - StartStep) / Interval * Interval;

    public static void ValidateStep(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "Steps count completed updates and cannot be negative.");
    }
}

/// <summary>Argument checks shared by the schedules' constructors.</summary>
internal static class ScheduleArguments
{
    public static void Validate(double initialSparsity, double finalSparsity, long totalSteps, long pruningInterval, double startFraction, double endFraction)
    {
        if (!(finalSparsity >= 0 && finalSparsity < 1))
            throw new ArgumentOutOfRangeException(nameof(finalSparsity), finalSparsity, "Must lie in [0, 1).");
        if (!(initialSparsity >= 0 && initialSparsity <= finalSparsity))
            throw new ArgumentOutOfRangeException(nameof(initialSparsity), initialSparsity, $"Must lie in [0, final sparsity {finalSparsity}].");
        if (totalSteps < 1) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "Must be at least 1.");
        if (pruningInterval < 1) throw new ArgumentOutOfRangeException(nameof(pruningInterval), pruningInterval, "Must be at least 1.");
        if (!(startFraction >= 0 && startFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(startFraction), startFraction, "Must lie in [0, 1].");
        if (!(endFraction >= startFraction && endFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(endFraction), endFraction, $"Must lie in [start fraction {startFraction}, 1].");
    }
}
