namespace Pipelines.Components.Schedules;

/// <summary>Cosine annealing with warm restarts (SGDR): cycles that each fall from the peak towards the floor.</summary>
/// <remarks>
/// After an optional linear warm-up of <c>W</c> steps (step 0 at <c>peak / W</c>, step <c>W - 1</c> at the peak), cycle <c>k</c> (from 0) lasts <c>L_k = L * r^k</c> steps
/// (<c>r</c> = <see cref="CycleLengthMultiplier"/>) and, <c>u</c> steps into it,
/// <c>lr = peak * (m + (1-m) * 0.5 (1 + cos(pi u / L_k)))</c>. The next cycle restarts at the peak, so the floor
/// itself is approached but never used. Cycles go on for ever.
/// </remarks>
public sealed record CyclicCosineSchedule : ISchedule
{
    /// <summary>Creates a cyclic cosine schedule.</summary>
    /// <param name="peakLearningRate">The rate at the start of every cycle; finite and &gt;= 0.</param>
    /// <param name="cycleSteps">The first cycle's length <c>L &gt;= 1</c>.</param>
    /// <param name="minRatio">The floor as a fraction <c>m</c> of the peak, in <c>[0, 1]</c>.</param>
    /// <param name="warmupSteps">Warm-up steps <c>W &gt;= 0</c> before the first cycle (linear).</param>
    /// <param name="cycleLengthMultiplier">Each cycle is this many times longer than the one before, <c>r &gt;= 1</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range; the message names it and its value.</exception>
    public CyclicCosineSchedule(double peakLearningRate, long cycleSteps, double minRatio = 0, long warmupSteps = 0,
        int cycleLengthMultiplier = 1)
    {
        PeakLearningRate = ScheduleGuard.Rate(peakLearningRate, nameof(peakLearningRate));
        CycleSteps = ScheduleGuard.Positive(cycleSteps, nameof(cycleSteps));
        MinRatio = ScheduleGuard.Ratio(minRatio, nameof(minRatio));
        WarmupSteps = ScheduleGuard.NonNegative(warmupSteps, nameof(warmupSteps));
        CycleLengthMultiplier = (int)ScheduleGuard.Positive(cycleLengthMultiplier, nameof(cycleLengthMultiplier));
    }

    /// <summary>The rate at the start of every cycle.</summary>
    public double PeakLearningRate { get; }

    /// <summary>The first cycle's length <c>L</c>.</summary>
    public long CycleSteps { get; }

    /// <summary>The floor as a fraction <c>m</c> of the peak.</summary>
    public double MinRatio { get; }

    /// <summary>Linear warm-up steps before the first cycle.</summary>
    public long WarmupSteps { get; }

    /// <summary>The growth <c>r</c> of the cycle length from one cycle to the next.</summary>
    public int CycleLengthMultiplier { get; }

    /// <inheritdoc />
    public double ValueAt(long step)
    {
        ScheduleGuard.Step(step);
        if (step < WarmupSteps) return PeakLearningRate * ScheduleMath.WarmupFactor(WarmupShape.Linear, step + 1, WarmupSteps);
        var (intoCycle, cycleLength) = Locate(step - WarmupSteps);
        return PeakLearningRate * ScheduleMath.DecayFactor(DecayShape.Cosine, intoCycle, cycleLength, MinRatio, 0);
    }

    /// <summary>The position inside its cycle of a step counted from the end of the warm-up, and that cycle's length.</summary>
    private (long IntoCycle, long CycleLength) Locate(long sinceWarmup)
    {
        if (CycleLengthMultiplier == 1) return (sinceWarmup % CycleSteps, CycleSteps);
        // Lengths grow geometrically, so this loop runs at most ~63 times before a length exceeds any step.
        var length = CycleSteps;
        while (sinceWarmup >= length)
        {
            sinceWarmup -= length;
            length = length > long.MaxValue / CycleLengthMultiplier ? long.MaxValue : length * CycleLengthMultiplier;
        }

        return (sinceWarmup, length);
    }
}
