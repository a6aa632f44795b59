namespace Pipelines.Components.Schedules;

/// <summary>A linear rise from 0 to the peak over the warm-up, then the peak for ever.</summary>
/// <remarks>
/// <c>lr(s) = peak * (s + 1) / W</c> for <c>s &lt; W</c>, <c>peak</c> after (the warm-up of arXiv 2404.06395): step 0,
/// the first update, runs at <c>peak / W</c> and step <c>W - 1</c> at the peak.
/// </remarks>
public sealed record LinearWarmupSchedule : ISchedule
{
    /// <summary>Creates a linear warm-up to <paramref name="peakLearningRate"/>.</summary>
    /// <param name="peakLearningRate">The rate reached at step <paramref name="warmupSteps"/> - 1; finite and &gt;= 0.</param>
    /// <param name="warmupSteps">Steps of the rise, <c>W &gt;= 0</c> (0: the peak from step 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative or NaN rate, or negative <paramref name="warmupSteps"/>.</exception>
    public LinearWarmupSchedule(double peakLearningRate, long warmupSteps)
    {
        PeakLearningRate = ScheduleGuard.Rate(peakLearningRate, nameof(peakLearningRate));
        WarmupSteps = ScheduleGuard.NonNegative(warmupSteps, nameof(warmupSteps));
    }

    /// <summary>The rate after the warm-up.</summary>
    public double PeakLearningRate { get; }

    /// <summary>Steps of the rise (<c>W</c>); the peak is reached at step <c>W - 1</c>.</summary>
    public long WarmupSteps { get; }

    /// <inheritdoc />
    public double ValueAt(long step)
    {
        ScheduleGuard.Step(step);
        return step < WarmupSteps
            ? PeakLearningRate * ScheduleMath.WarmupFactor(WarmupShape.Linear, step + 1, WarmupSteps)
            : PeakLearningRate;
    }
}
