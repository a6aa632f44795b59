namespace Pipelines.Components.Schedules;

/// <summary>An optional warm-up, then a cosine from the peak at step <c>W</c> to the floor at step <c>S</c>.</summary>
/// <remarks>
/// <code>
/// lr(s) = peak * w(s/W)                                   s &lt; W
///       = peak * (m + (1-m) * 0.5 (1 + cos(pi p)))        W &lt;= s &lt;= S,  p = (s - W) / (S - W)
///       = m * peak                                        s &gt; S
/// </code>
/// The cosine spans only the post-warm-up part, the convention under which the annealing-law check values of
/// arXiv 2408.11029 are reproduced (see <see cref="AnnealingLossLaw"/>).
/// </remarks>
public sealed record CosineSchedule : ISchedule
{
    /// <summary>Creates a cosine schedule.</summary>
    /// <param name="peakLearningRate">The rate at the end of the warm-up; finite and &gt;= 0.</param>
    /// <param name="totalSteps">The step <c>S</c> at which the floor is reached; <c>S &gt; W</c>.</param>
    /// <param name="warmupSteps">Warm-up steps <c>W</c>, in <c>[0, S)</c>.</param>
    /// <param name="minRatio">The floor as a fraction <c>m</c> of the peak, in <c>[0, 1]</c>.</param>
    /// <param name="warmupShape">The warm-up's shape.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range; the message names it and its value.</exception>
    public CosineSchedule(double peakLearningRate, long totalSteps, long warmupSteps = 0, double minRatio = 0,
        WarmupShape warmupShape = WarmupShape.Linear)
    {
        PeakLearningRate = ScheduleGuard.Rate(peakLearningRate, nameof(peakLearningRate));
        TotalSteps = ScheduleGuard.Positive(totalSteps, nameof(totalSteps));
        WarmupSteps = ScheduleGuard.NonNegative(warmupSteps, nameof(warmupSteps));
        if (warmupSteps >= totalSteps)
            throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps,
                $"warmupSteps ({warmupSteps}) must be shorter than the run (totalSteps = {totalSteps}) to leave room for the cosine.");
        MinRatio = ScheduleGuard.Ratio(minRatio, nameof(minRatio));
        WarmupShape = ScheduleGuard.Defined(warmupShape, nameof(warmupShape));
    }

    /// <summary>The rate at step <c>W</c>.</summary>
    public double PeakLearningRate { get; }

    /// <summary>The step <c>S</c> at which the rate reaches <c>m * peak</c>.</summary>
    public long TotalSteps { get; }

    /// <summary>Warm-up steps <c>W</c>.</summary>
    public long WarmupSteps { get; }

    /// <summary>The floor as a fraction <c>m</c> of the peak.</summary>
    public double MinRatio { get; }

    /// <summary>The warm-up's shape.</summary>
    public WarmupShape WarmupShape { get; }

    /// <inheritdoc />
    public double ValueAt(long step)
    {
        ScheduleGuard.Step(step);
        if (step < WarmupSteps) return PeakLearningRate * ScheduleMath.WarmupFactor(WarmupShape, step, WarmupSteps);
        if (step > TotalSteps) return PeakLearningRate * MinRatio;
        return PeakLearningRate * ScheduleMath.DecayFactor(DecayShape.Cosine, step - WarmupSteps, TotalSteps - WarmupSteps, MinRatio, 0);
    }
}
