namespace Pipelines.Components.Schedules;

/// <summary>The warm-up and decay factors (multipliers of the peak) shared by every schedule here.</summary>
/// <remarks>
/// Both take a position counted in updates <em>done</em> by the end of the step: the schedules pass
/// <c>step + 1</c>, so the first warm-up step runs at <c>w(1/W)</c>, not 0, and the last decay step at the floor,
/// not one step short of it (a run of S steps executes steps 0..S-1).
/// </remarks>
internal static class ScheduleMath
{
    /// <summary><c>w(position / warmupSteps)</c> for <c>1 &lt;= position &lt;= warmupSteps</c>.</summary>
    public static double WarmupFactor(WarmupShape shape, long position, long warmupSteps)
    {
        var x = (double)position / warmupSteps;
        return shape switch
        {
            WarmupShape.Linear => x,
            WarmupShape.Cosine => 0.5 * (1 - Math.Cos(Math.PI * x)),
            _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "Unknown warm-up shape."),
        };
    }

    /// <summary>The decay factor at <paramref name="position"/> = <c>p * decaySteps</c>, with <c>p = position / decaySteps</c>.</summary>
    public static double DecayFactor(DecayShape shape, long position, long decaySteps, double minRatio, long halfLifeSteps)
    {
        var p = (double)position / decaySteps;
        var m = minRatio;
        return shape switch
        {
            DecayShape.Linear => m + (1 - m) * (1 - p),
            DecayShape.Cosine => m + (1 - m) * 0.5 * (1 + Math.Cos(Math.PI * p)),
            DecayShape.OneMinusSqrt => m + (1 - m) * (1 - Math.Sqrt(p)),
            DecayShape.Exponential => m + (1 - m) * Math.Pow(0.5, (double)position / halfLifeSteps),
            // Divides by the decay length (p), not the run length: otherwise the floor is never reached.
            DecayShape.Inverse => 1 / ((1 / m - 1) * p + 1),
            _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "Unknown decay shape."),
        };
    }
}
