namespace Pipelines.Components.Schedules;

/// <summary>How a decay's length is given.</summary>
public enum DecayLengthUnit
{
    /// <summary>A number of steps.</summary>
    Steps,

    /// <summary>A fraction of the whole run (warm-up included).</summary>
    FractionOfRun,
}

/// <summary>The length of a decay phase: a number of steps, or a fraction of the run.</summary>
/// <remarks>
/// MiniCPM (arXiv 2404.06395) finds a decay over 10% of the run enough and 2.5% too short; 10-20% is typical.
/// A fraction resolves to <c>round(fraction * totalSteps)</c>, halves rounded away from zero.
/// </remarks>
public sealed record DecayLength
{
    private DecayLength(DecayLengthUnit unit, long steps, double fraction)
    {
        Unit = unit;
        Steps = steps;
        Fraction = fraction;
    }

    /// <summary>Whether <see cref="Steps"/> or <see cref="Fraction"/> gives the length.</summary>
    public DecayLengthUnit Unit { get; }

    /// <summary>The length in steps when <see cref="Unit"/> is <see cref="DecayLengthUnit.Steps"/>; 0 otherwise.</summary>
    public long Steps { get; }

    /// <summary>The fraction of the run when <see cref="Unit"/> is <see cref="DecayLengthUnit.FractionOfRun"/>; 0 otherwise.</summary>
    public double Fraction { get; }

    /// <summary>A decay of <paramref name="steps"/> steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is below 1.</exception>
    public static DecayLength OfSteps(long steps) =>
        new(DecayLengthUnit.Steps, ScheduleGuard.Positive(steps, nameof(steps)), 0);

    /// <summary>A decay over <paramref name="fraction"/> of the run.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fraction"/> is outside <c>(0, 1]</c> or NaN.</exception>
    public static DecayLength OfFraction(double fraction)
    {
        if (!(fraction > 0 && fraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, $"fraction must lie in (0, 1]; got {fraction}.");
        return new DecayLength(DecayLengthUnit.FractionOfRun, 0, fraction);
    }

    /// <summary>The length in steps for a run of <paramref name="totalSteps"/> steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// The decay is longer than the run, or a fraction rounds to 0 steps.
    /// </exception>
    public long Resolve(long totalSteps)
    {
        ScheduleGuard.Positive(totalSteps, nameof(totalSteps));
        var steps = Unit == DecayLengthUnit.Steps
            ? Steps
            : (long)Math.Round(Fraction * totalSteps, MidpointRounding.AwayFromZero);
        if (steps < 1)
            throw new ArgumentOutOfRangeException("decay", Fraction,
                $"A decay over a fraction {Fraction} of a run of {totalSteps} steps rounds to 0 steps.");
        if (steps > totalSteps)
            throw new ArgumentOutOfRangeException("decay", steps,
                $"The decay ({steps} steps) is longer than the run (totalSteps = {totalSteps}).");
        return steps;
    }

    /// <inheritdoc />
    public override string ToString() => Unit == DecayLengthUnit.Steps ? $"{Steps} steps" : $"{Fraction} of the run";
}
