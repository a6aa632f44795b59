using System.Globalization;

namespace Pipelines.Components.Schedules;

public sealed partial record PhaseLayout
{
    /// <summary>The same layout with the stable phase (and so the decay) moved <paramref name="steps"/> later.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">The decay start is undecided: use <see cref="StartDecayAt"/>.</exception>
    public PhaseLayout ExtendStable(long steps)
    {
        ScheduleGuard.NonNegative(steps, nameof(steps));
        if (DecayStart is not { } decayStart)
            throw new InvalidOperationException("The stable phase is open-ended, so it cannot be extended; call StartDecayAt(step) to fix the decay start.");
        if (decayStart > long.MaxValue - DecaySteps - steps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"Extending the decay start {decayStart} by {steps} steps overflows a step count.");
        return new PhaseLayout(WarmupSteps, decayStart + steps, DecaySteps, DecayShape, MinRatio, HalfLifeSteps, WarmupShape);
    }

    /// <summary>The same layout with the decay starting at <paramref name="step"/> (open-ended layouts included).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is before the end of the warm-up.</exception>
    public PhaseLayout StartDecayAt(long step)
    {
        if (step < WarmupSteps)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"The decay cannot start at step {step}, before the end of the warm-up (warmupSteps = {WarmupSteps}).");
        return new PhaseLayout(WarmupSteps, step, DecaySteps, DecayShape, MinRatio, HalfLifeSteps, WarmupShape);
    }

    /// <summary>
    /// The layout of a decay branched from the stable checkpoint at <paramref name="fromStep"/>: the same warm-up
    /// and stable phase up to that step, then a decay of <paramref name="decaySteps"/> steps in this layout's shape.
    /// </summary>
    /// <remarks>Branching (arXiv 2404.06395): the stable phase runs on; any budget gets its own decay branch.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="fromStep"/> is not in the stable phase (before the end of the warm-up or after the decay
    /// start), or <paramref name="decaySteps"/> is below 1.
    /// </exception>
    public PhaseLayout BranchDecay(long fromStep, long decaySteps)
    {
        if (fromStep < WarmupSteps)
            throw new ArgumentOutOfRangeException(nameof(fromStep), fromStep, $"A decay branches from a stable checkpoint; step {fromStep} is still in the warm-up (warmupSteps = {WarmupSteps}).");
        if (DecayStart is { } decayStart && fromStep > decayStart)
            throw new ArgumentOutOfRangeException(nameof(fromStep), fromStep, $"A decay branches from a stable checkpoint; step {fromStep} is past the stable phase, which ends at step {decayStart}.");
        ScheduleGuard.Positive(decaySteps, nameof(decaySteps));
        return new PhaseLayout(WarmupSteps, fromStep, decaySteps, DecayShape, MinRatio, HalfLifeSteps, WarmupShape);
    }

    /// <summary>
    /// The differences from this layout to <paramref name="other"/>, one readable line each
    /// (e.g. "decay start changed from 900 to 1000"); empty when the layouts are equal.
    /// </summary>
    /// <remarks>Meant for refusing a resumed run whose layout changed: join the lines into the error message.</remarks>
    public IReadOnlyList<string> DescribeDifferences(PhaseLayout other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var differences = new List<string>();
        void Compare<T>(string what, T before, T after, Func<T, string> format)
        {
            if (!EqualityComparer<T>.Default.Equals(before, after))
                differences.Add($"{what} changed from {format(before)} to {format(after)}");
        }

        static string Step(long? step) => step?.ToString(CultureInfo.InvariantCulture) ?? "undecided (open-ended stable phase)";
        Compare("warm-up steps", WarmupSteps, other.WarmupSteps, value => value.ToString(CultureInfo.InvariantCulture));
        Compare("warm-up shape", WarmupShape, other.WarmupShape, value => value.ToString());
        Compare("decay start", DecayStart, other.DecayStart, Step);
        Compare("decay steps", DecaySteps, other.DecaySteps, value => value.ToString(CultureInfo.InvariantCulture));
        Compare("decay end", DecayEnd, other.DecayEnd, Step);
        Compare("decay shape", DecayShape, other.DecayShape, value => value.ToString());
        Compare("min ratio", MinRatio, other.MinRatio, value => value.ToString("R", CultureInfo.InvariantCulture));
        Compare("half-life steps", HalfLifeSteps, other.HalfLifeSteps, value => value.ToString(CultureInfo.InvariantCulture));
        return differences;
    }

    /// <summary>
    /// A step from which the two layouts may give different multipliers (every earlier step agrees), or null when
    /// no step differs. A run resumed at step <c>s</c> may switch layouts when this is null or &gt;= <c>s</c>.
    /// </summary>
    /// <remarks>Exact for a moved decay start (its first step already runs below the peak); conservative otherwise.</remarks>
    public long? FirstStepThatDiffers(PhaseLayout other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (WarmupSteps != other.WarmupSteps || (WarmupShape != other.WarmupShape && WarmupSteps > 0)) return 0;
        if (DecayStart != other.DecayStart)
            return Math.Min(DecayStart ?? long.MaxValue, other.DecayStart ?? long.MaxValue);
        if (DecayStart is not { } decayStart) return null; // both still stable for ever
        var sameDecay = DecaySteps == other.DecaySteps && DecayShape == other.DecayShape
            && MinRatio == other.MinRatio && HalfLifeSteps == other.HalfLifeSteps;
        return sameDecay ? null : decayStart;
    }
}
