namespace Pipelines.Components.Schedules;

/// <summary>Argument checks shared by the schedules; each names the option and the value it rejects.</summary>
internal static class ScheduleGuard
{
    public static void Step(long step)
    {
        if (step < 0)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"step must be >= 0 (0 is the first update); got {step}.");
    }

    public static double Rate(double value, string name)
    {
        if (!double.IsFinite(value) || value < 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite learning rate >= 0; got {value}.");
        return value;
    }

    public static long NonNegative(long value, string name)
    {
        if (value < 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be >= 0; got {value}.");
        return value;
    }

    public static long Positive(long value, string name)
    {
        if (value < 1)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be >= 1; got {value}.");
        return value;
    }

    public static double Ratio(double value, string name)
    {
        if (!(value >= 0 && value <= 1))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must lie in [0, 1]; got {value}.");
        return value;
    }

    public static T Defined<T>(T value, string name) where T : struct, Enum
    {
        if (!Enum.IsDefined(value))
            throw new ArgumentOutOfRangeException(name, value, $"{name} is not a defined {typeof(T).Name}; got {value}.");
        return value;
    }

    /// <summary>The half-life to use: <paramref name="halfLifeSteps"/>, or when null the default of <paramref name="shape"/> for a decay of <paramref name="decaySteps"/>.</summary>
    public static long HalfLife(DecayShape shape, long? halfLifeSteps, long decaySteps) =>
        halfLifeSteps ?? (shape == DecayShape.Exponential ? PhaseLayout.DefaultHalfLifeSteps(decaySteps) : 0);

    /// <summary>Checks the decay options together: the inverse shape needs m &gt; 0, only the exponential one a half-life.</summary>
    public static void Decay(DecayShape shape, double minRatio, long halfLifeSteps)
    {
        Defined(shape, "decayShape");
        Ratio(minRatio, "minRatio");
        if (shape == DecayShape.Inverse && minRatio == 0)
            throw new ArgumentOutOfRangeException("minRatio", minRatio,
                "The Inverse decay shape needs minRatio > 0: its formula peak / ((1/m - 1) p + 1) divides by m = minRatio; got 0.");
        if (shape == DecayShape.Exponential && halfLifeSteps < 1)
            throw new ArgumentOutOfRangeException("halfLifeSteps", halfLifeSteps,
                $"The Exponential decay shape needs halfLifeSteps >= 1; got {halfLifeSteps}.");
        if (shape != DecayShape.Exponential && halfLifeSteps != 0)
            throw new ArgumentOutOfRangeException("halfLifeSteps", halfLifeSteps,
                $"halfLifeSteps applies only to the Exponential decay shape (shape is {shape}); got {halfLifeSteps}, expected 0.");
    }
}
