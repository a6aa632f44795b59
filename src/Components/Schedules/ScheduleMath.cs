namespace Pipelines.Components.Schedules;

/// <summary>The warm-up and decay factors (multipliers of the peak) shared by every schedule here.</summary>
internal static class ScheduleMath
{
    /// <summary><c>w(step / warmupSteps)</c> for <c>0 &lt;= step &lt; warmupSteps</c>.</summary>
    public static double WarmupFactor(WarmupShape shape, long step, long warmupSteps)
    {
        var x = (double)step / warmupSteps;
        return shape switch
        {
            WarmupShape.Linear => x,
            WarmupShape.Cosine => 0.5 * (1 - Math.Cos(Math.PI * x)),
            _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "Unknown warm-up shape."),
        };
    }

    /// <summary>The decay factor at <paramref name="stepsIntoDecay"/> = <c>s - T</c>, with <c>p = (s - T) / decaySteps</c>.</summary>
    public static double DecayFactor(DecayShape shape, long stepsIntoDecay, long decaySteps, double minRatio, long halfLifeSteps)
    {
        var p = (double)stepsIntoDecay / decaySteps;
        var m = minRatio;
        return shape switch
        {
            DecayShape.Linear => m + (1 - m) * (1 - p),
            DecayShape.Cosine => m + (1 - m) * 0.5 * (1 + Math.Cos(Math.PI * p)),
            DecayShape.OneMinusSqrt => m + (1 - m) * (1 - Math.Sqrt(p)),
            DecayShape.Exponential => m + (1 - m) * Math.Pow(0.5, (double)stepsIntoDecay / halfLifeSteps),
            // Divides by the decay length (p), not the run length: otherwise the floor is never reached.
            DecayShape.Inverse => 1 / ((1 / m - 1) * p + 1),
            _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "Unknown decay shape."),
        };
    }
}
