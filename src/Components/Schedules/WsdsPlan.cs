using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipelines.Components.Schedules;

/// <summary>
/// WSD-S: one main branch through budgets <c>T1 &lt; T2 &lt; ...</c>; each cycle is a stable part at the peak and a
/// decay over a fraction of the cycle, and the next cycle resumes from the decayed checkpoint at the peak.
/// </summary>
/// <remarks>
/// arXiv 2410.05192 (WSD-S), on the WSD schedule of arXiv 2404.06395. With <c>T0 = 0</c>, cycle <c>k</c> covers steps
/// <c>[T(k-1), Tk)</c> of length <c>Lk</c>; its decay has <c>Dk = round(f Lk)</c> steps (halves away from zero) and
/// starts at <c>Tk - Dk</c>, with <c>p = (s + 1 - (Tk - Dk)) / Dk</c> in the decay shape's formula, so the cycle's last
/// step, <c>Tk - 1</c>, runs at the floor <c>m * peak</c> (for every shape). The model after <c>Tk</c> updates is the
/// decayed checkpoint for budget <c>Tk</c>; step <c>Tk</c> starts the next cycle from it at the peak. The first cycle
/// may open with a warm-up (<see cref="WarmupSteps"/>; step 0 at <c>peak / W</c>, its last step at the peak); each
/// later one may open with a linear re-warm-up from the floor <c>m * peak</c> to the peak over
/// <see cref="RewarmupSteps"/> steps <b>(our choice)</b>, its first step above the floor and its last at the peak.
/// Past the last budget the rate stays at <c>m * peak</c>.
/// </remarks>
public sealed record WsdsPlan : ISchedule
{
    private readonly long[] _budgets;
    private readonly WsdsCycle[] _cycles;

    /// <summary>Creates a WSD-S plan.</summary>
    /// <param name="peakLearningRate">The stable rate; finite and &gt;= 0.</param>
    /// <param name="budgets">Strictly increasing step budgets <c>T1 &lt; T2 &lt; ...</c>, the first &gt;= 1.</param>
    /// <param name="decayFraction">The decay's share <c>f</c> of each cycle, in <c>(0, 1)</c>.</param>
    /// <param name="warmupSteps">Warm-up steps at the start of the first cycle (linear from 0).</param>
    /// <param name="rewarmupSteps">Re-warm-up steps at the start of every later cycle (linear from <c>m * peak</c>).</param>
    /// <param name="decayShape">The decays' shape.</param>
    /// <param name="minRatio">The floor <c>m</c> as a fraction of the peak.</param>
    /// <param name="halfLifeSteps">The half-life for <see cref="DecayShape.Exponential"/>; 0 otherwise.</param>
    /// <exception cref="ArgumentException"><paramref name="budgets"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// An option out of range, budgets not strictly increasing, a cycle whose decay rounds to 0 steps, or a cycle
    /// too short for its (re-)warm-up and decay; the message names the option and the value.
    /// </exception>
    [JsonConstructor]
    public WsdsPlan(double peakLearningRate, IReadOnlyList<long> budgets, double decayFraction, long warmupSteps = 0,
        long rewarmupSteps = 0, DecayShape decayShape = DecayShape.Linear, double minRatio = 0, long halfLifeSteps = 0)
    {
        ArgumentNullException.ThrowIfNull(budgets);
        PeakLearningRate = ScheduleGuard.Rate(peakLearningRate, nameof(peakLearningRate));
        if (budgets.Count == 0) throw new ArgumentException("At least one budget is needed.", nameof(budgets));
        for (var index = 0; index < budgets.Count; index++)
        {
            var previous = index == 0 ? 0 : budgets[index - 1];
            if (budgets[index] <= previous)
                throw new ArgumentOutOfRangeException(nameof(budgets), budgets[index],
                    $"budgets[{index}] = {budgets[index]} must be above {previous}: budgets are strictly increasing step counts >= 1.");
        }

        if (!(decayFraction > 0 && decayFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(decayFraction), decayFraction, $"decayFraction must lie in (0, 1); got {decayFraction}.");
        ScheduleGuard.NonNegative(warmupSteps, nameof(warmupSteps));
        ScheduleGuard.NonNegative(rewarmupSteps, nameof(rewarmupSteps));
        ScheduleGuard.Decay(decayShape, minRatio, halfLifeSteps);
        _budgets = [.. budgets];
        DecayFraction = decayFraction;
        WarmupSteps = warmupSteps;
        RewarmupSteps = rewarmupSteps;
        DecayShape = decayShape;
        MinRatio = minRatio;
        HalfLifeSteps = halfLifeSteps;
        _cycles = LayOutCycles();
    }

    /// <summary>The stable rate.</summary>
    public double PeakLearningRate { get; }

    /// <summary>The budgets <c>T1 &lt; T2 &lt; ...</c>: the step counts at which decayed models are saved.</summary>
    public IReadOnlyList<long> Budgets => _budgets;

    /// <summary>The decay's share of each cycle.</summary>
    public double DecayFraction { get; }

    /// <summary>Warm-up steps at the start of the first cycle.</summary>
    public long WarmupSteps { get; }

    /// <summary>Re-warm-up steps at the start of every later cycle.</summary>
    public long RewarmupSteps { get; }

    /// <summary>The decays' shape.</summary>
    public DecayShape DecayShape { get; }

    /// <summary>The floor <c>m</c> as a fraction of the peak.</summary>
    public double MinRatio { get; }

    /// <summary>The half-life of <see cref="DecayShape.Exponential"/> in steps; 0 for the other shapes.</summary>
    public long HalfLifeSteps { get; }

    /// <summary>The cycles, one per budget.</summary>
    [JsonIgnore]
    public IReadOnlyList<WsdsCycle> Cycles => _cycles;

    /// <summary>The step counts after which a decayed model is saved: the budgets.</summary>
    [JsonIgnore]
    public IReadOnlyList<long> DecayedCheckpointSteps => _budgets;

    /// <summary>True when the model after <paramref name="step"/> updates is a decayed model to save.</summary>
    public bool IsDecayedCheckpointStep(long step) => Array.BinarySearch(_budgets, step) >= 0;

    /// <summary>This plan with one more budget after the last (WSD-S needs no budget fixed in advance).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="budget"/> is not above the last budget, or its cycle is too short.</exception>
    public WsdsPlan AddBudget(long budget) =>
        new(PeakLearningRate, [.. _budgets, budget], DecayFraction, WarmupSteps, RewarmupSteps, DecayShape, MinRatio, HalfLifeSteps);

    /// <inheritdoc />
    public double ValueAt(long step)
    {
        ScheduleGuard.Step(step);
        if (step >= _cycles[^1].DecayEnd) return PeakLearningRate * MinRatio;
        var found = Array.BinarySearch(_budgets, step);
        // A step equal to a budget is the first of the next cycle.
        var cycle = _cycles[found >= 0 ? found + 1 : ~found];
        return PeakLearningRate * Multiplier(cycle, step);
    }

    private double Multiplier(WsdsCycle cycle, long step)
    {
        if (step < cycle.WarmupEnd)
        {
            var position = step - cycle.Start + 1;
            var warmupLength = cycle.WarmupEnd - cycle.Start;
            var rise = ScheduleMath.WarmupFactor(WarmupShape.Linear, position, warmupLength);
            return cycle.Index == 0 ? rise : MinRatio + (1 - MinRatio) * rise;
        }

        if (step < cycle.DecayStart) return 1;
        var intoDecay = step - cycle.DecayStart + 1;
        if (intoDecay >= cycle.DecaySteps) return MinRatio;
        return ScheduleMath.DecayFactor(DecayShape, intoDecay, cycle.DecaySteps, MinRatio, HalfLifeSteps);
    }

    private WsdsCycle[] LayOutCycles()
    {
        var cycles = new WsdsCycle[_budgets.Length];
        for (var index = 0; index < _budgets.Length; index++)
        {
            var start = index == 0 ? 0 : _budgets[index - 1];
            var end = _budgets[index];
            var length = end - start;
            var decaySteps = (long)Math.Round(DecayFraction * length, MidpointRounding.AwayFromZero);
            if (decaySteps < 1)
                throw new ArgumentOutOfRangeException("budgets", end,
                    $"Cycle {index} (steps {start} to {end}) is {length} steps long; a decayFraction of {DecayFraction} of it rounds to 0 decay steps.");
            var (warmupName, warmup) = index == 0 ? (nameof(WarmupSteps), WarmupSteps) : (nameof(RewarmupSteps), RewarmupSteps);
            if (warmup + decaySteps > length)
                throw new ArgumentOutOfRangeException(char.ToLowerInvariant(warmupName[0]) + warmupName[1..], warmup,
                    $"Cycle {index} (steps {start} to {end}) is {length} steps long: too short for a warm-up of {warmup} steps and a decay of {decaySteps} steps.");
            long? resume = index + 1 < _budgets.Length ? end : null;
            cycles[index] = new WsdsCycle(index, start, start + warmup, end - decaySteps, end, resume);
        }

        return cycles;
    }

    /// <summary>The differences from this plan to <paramref name="other"/>, one readable line each; empty when equal.</summary>
    public IReadOnlyList<string> DescribeDifferences(WsdsPlan other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var differences = new List<string>();
        void Compare(string what, string before, string after)
        {
            if (before != after) differences.Add($"{what} changed from {before} to {after}");
        }

        static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
        static string Budgets(long[] budgets) => "[" + string.Join(", ", budgets) + "]";
        Compare("peak learning rate", Number(PeakLearningRate), Number(other.PeakLearningRate));
        Compare("budgets", Budgets(_budgets), Budgets(other._budgets));
        Compare("decay fraction", Number(DecayFraction), Number(other.DecayFraction));
        Compare("warm-up steps", WarmupSteps.ToString(CultureInfo.InvariantCulture), other.WarmupSteps.ToString(CultureInfo.InvariantCulture));
        Compare("re-warm-up steps", RewarmupSteps.ToString(CultureInfo.InvariantCulture), other.RewarmupSteps.ToString(CultureInfo.InvariantCulture));
        Compare("decay shape", DecayShape.ToString(), other.DecayShape.ToString());
        Compare("min ratio", Number(MinRatio), Number(other.MinRatio));
        Compare("half-life steps", HalfLifeSteps.ToString(CultureInfo.InvariantCulture), other.HalfLifeSteps.ToString(CultureInfo.InvariantCulture));
        return differences;
    }

    /// <summary>Value equality, budgets compared element by element.</summary>
    public bool Equals(WsdsPlan? other) =>
        other is not null && PeakLearningRate == other.PeakLearningRate && _budgets.AsSpan().SequenceEqual(other._budgets)
        && DecayFraction == other.DecayFraction && WarmupSteps == other.WarmupSteps && RewarmupSteps == other.RewarmupSteps
        && DecayShape == other.DecayShape && MinRatio == other.MinRatio && HalfLifeSteps == other.HalfLifeSteps;

    /// <inheritdoc />
    public override int GetHashCode() =>
        HashCode.Combine(PeakLearningRate, _budgets.Length, _budgets[^1], DecayFraction, WarmupSteps, RewarmupSteps, DecayShape, MinRatio);

    /// <summary>This plan as JSON (camelCase, enums by name), for checkpoints.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ScheduleJson.Options);

    /// <summary>Reads a plan written by <see cref="ToJson"/>, validated as on construction.</summary>
    /// <exception cref="JsonException">The text is not a plan.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The stored plan is not valid.</exception>
    public static WsdsPlan FromJson(string json) => ScheduleJson.Read<WsdsPlan>(json);
}
