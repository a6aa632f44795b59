namespace Pipelines.Components.Schedules;

/// <summary>An optional warm-up, then a cosine from the peak to the floor at the run's last step, <c>S - 1</c>.</summary>
/// <remarks>
/// <code>
/// lr(s) = peak * w((s+1)/W)                               s &lt; W          (step 0 at w(1/W), step W-1 at the peak)
///       = peak * (m + (1-m) * 0.5 (1 + cos(pi p)))        W &lt;= s &lt; S,   p = (s + 1 - W) / (S - W)
///       = m * peak                                        s &gt;= S - 1
/// </code>
/// Step 0 is the first update and a run of <c>S</c> steps executes steps <c>0..S-1</c>. The cosine spans only the
/// post-warm-up part, the convention of the annealing-law check values of arXiv 2408.11029 (see
/// <see cref="AnnealingAreas"/>).
/// </remarks>
public sealed record CosineSchedule : ISchedule
{
    /// <summary>Creates a cosine schedule.</summary>
    /// <param name="peakLearningRate">The rate at the end of the warm-up; finite and &gt;= 0.</param>
    /// <param name="totalSteps">The run's length <c>S &gt; W</c>: step <c>S - 1</c> runs at the floor.</param>
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

    /// <summary>The rate at the warm-up's last step, <c>W - 1</c> (at step 0 without a warm-up, the cosine's start).</summary>
    public double PeakLearningRate { get; }

    /// <summary>The run's length <c>S</c>: step <c>S - 1</c> runs at <c>m * peak</c>.</summary>
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
        if (step < WarmupSteps) return PeakLearningRate * ScheduleMath.WarmupFactor(WarmupShape, step + 1, WarmupSteps);
        if (step >= TotalSteps - 1) return PeakLearningRate * MinRatio;
        return PeakLearningRate * ScheduleMath.DecayFactor(DecayShape.Cosine, step + 1 - WarmupSteps, TotalSteps - WarmupSteps, MinRatio, 0);
    }
}
