using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipelines.Components.Schedules;

/// <summary>
/// The phases of a warmup-stable-decay run as plain data: where the warm-up ends, where the decay starts (or that
/// it has not been decided yet) and how long and in which shape it falls to the floor. Peak-free; a checkpoint
/// stores it beside the step.
/// </summary>
/// <remarks>
/// The multiplier of the peak rate at step <c>s</c>, where step 0 is the first update and a run of <c>S</c> steps
/// executes steps <c>0..S-1</c> (arXiv 2404.06395; WSD-S and the inverse shape arXiv 2410.05192):
/// <code>
/// w((s+1)/W)                    s &lt; W                      (warm-up: step 0 at w(1/W), step W-1 at the peak)
/// 1                             W &lt;= s &lt; T                (stable; T = DecayStart, for ever if undecided)
/// m + (1-m) f(p)                T &lt;= s &lt; S, p = (s+1-T)/(S-T)   (decay; S = DecayEnd = T + DecaySteps)
/// m                             s &gt;= S - 1                 (the last step of the decay runs at the floor)
/// </code>
/// So the decay's <c>S - T</c> steps all run below the peak and the last one, step <c>S - 1</c>, at the floor, for
/// every shape; <see cref="DecayShape.Exponential"/> drops to the floor there from wherever its half-life left it.
/// <see cref="DecayShape.Inverse"/> is <c>1 / ((1/m - 1) p + 1)</c> instead of <c>m + (1-m) f(p)</c>.
/// Changes (<see cref="ExtendStable"/>, <see cref="StartDecayAt"/>, <see cref="BranchDecay"/>) return new,
/// validated layouts.
/// </remarks>
public sealed partial record PhaseLayout
{
    /// <summary>Creates a layout from its boundaries.</summary>
    /// <param name="warmupSteps">Warm-up steps <c>W &gt;= 0</c>; the stable phase starts at step <c>W</c>.</param>
    /// <param name="decayStart">The step <c>T &gt;= W</c> where the decay starts (the stable phase ends); null: not decided yet.</param>
    /// <param name="decaySteps">The decay's length <c>S - T &gt;= 1</c> (also kept while <paramref name="decayStart"/> is undecided).</param>
    /// <param name="decayShape">The decay's shape.</param>
    /// <param name="minRatio">The floor <c>m</c> as a fraction of the peak, in <c>[0, 1]</c> (&gt; 0 for <see cref="DecayShape.Inverse"/>).</param>
    /// <param name="halfLifeSteps">For <see cref="DecayShape.Exponential"/> only: the half-life in steps (&gt;= 1); 0 for the other shapes.</param>
    /// <param name="warmupShape">The warm-up's shape.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range; the message names it and its value.</exception>
    [JsonConstructor]
    public PhaseLayout(long warmupSteps, long? decayStart, long decaySteps, DecayShape decayShape = DecayShape.Linear,
        double minRatio = 0, long halfLifeSteps = 0, WarmupShape warmupShape = WarmupShape.Linear)
    {
        ScheduleGuard.NonNegative(warmupSteps, nameof(warmupSteps));
        ScheduleGuard.Positive(decaySteps, nameof(decaySteps));
        if (decayStart is { } start)
        {
            if (start < warmupSteps)
                throw new ArgumentOutOfRangeException(nameof(decayStart), start,
                    $"decayStart ({start}) is before the end of the warm-up (warmupSteps = {warmupSteps}).");
            if (start > long.MaxValue - decaySteps)
                throw new ArgumentOutOfRangeException(nameof(decayStart), start,
                    $"decayStart ({start}) + decaySteps ({decaySteps}) overflows a step count.");
        }

        ScheduleGuard.Decay(decayShape, minRatio, halfLifeSteps);
        WarmupSteps = warmupSteps;
        DecayStart = decayStart;
        DecaySteps = decaySteps;
        DecayShape = decayShape;
        MinRatio = minRatio;
        HalfLifeSteps = halfLifeSteps;
        WarmupShape = ScheduleGuard.Defined(warmupShape, nameof(warmupShape));
    }

    /// <summary>Warm-up steps <c>W</c>: steps <c>0..W-1</c> rise to the peak (step <c>W-1</c> runs at it); the stable phase starts at step <c>W</c>.</summary>
    public long WarmupSteps { get; }

    /// <summary>The step <c>T</c>, the first below the peak, where the stable phase ends and the decay starts; null while undecided.</summary>
    public long? DecayStart { get; }

    /// <summary>The decay's length <c>S - T</c> in steps.</summary>
    public long DecaySteps { get; }

    /// <summary>The decay's shape.</summary>
    public DecayShape DecayShape { get; }

    /// <summary>The floor <c>m</c> as a fraction of the peak.</summary>
    public double MinRatio { get; }

    /// <summary>The half-life of <see cref="DecayShape.Exponential"/> in steps; 0 for the other shapes.</summary>
    public long HalfLifeSteps { get; }

    /// <summary>The warm-up's shape.</summary>
    public WarmupShape WarmupShape { get; }

    /// <summary>The step count <c>S</c> at which the decay is done: step <c>S - 1</c> runs at the floor. Null while the decay start is undecided.</summary>
    [JsonIgnore]
    public long? DecayEnd => DecayStart + DecaySteps;

    /// <summary>True while the stable phase goes on for ever (the decay start is undecided).</summary>
    [JsonIgnore]
    public bool IsOpenEnded => DecayStart is null;

    /// <summary>The layout of a run of <paramref name="totalSteps"/> steps whose decay ends at its last step.</summary>
    /// <param name="totalSteps">The run's length <c>S &gt;= 1</c>: its last step, <c>S - 1</c>, runs at the floor.</param>
    /// <param name="decay">The decay's length, in steps or as a fraction of <paramref name="totalSteps"/>.</param>
    /// <param name="warmupSteps">Warm-up steps; the warm-up and the decay must fit in the run together.</param>
    /// <param name="decayShape">The decay's shape.</param>
    /// <param name="minRatio">The floor as a fraction of the peak.</param>
    /// <param name="halfLifeSteps">
    /// The half-life for <see cref="DecayShape.Exponential"/>; null: <see cref="DefaultHalfLifeSteps"/> of the decay
    /// for that shape, 0 for the others.
    /// </param>
    /// <param name="warmupShape">The warm-up's shape.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range, a warm-up or decay longer than the run, or both together longer.</exception>
    public static PhaseLayout ForRun(long totalSteps, DecayLength decay, long warmupSteps = 0,
        DecayShape decayShape = DecayShape.Linear, double minRatio = 0, long? halfLifeSteps = null,
        WarmupShape warmupShape = WarmupShape.Linear)
    {
        ArgumentNullException.ThrowIfNull(decay);
        ScheduleGuard.Positive(totalSteps, nameof(totalSteps));
        ScheduleGuard.NonNegative(warmupSteps, nameof(warmupSteps));
        if (warmupSteps > totalSteps)
            throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps,
                $"warmupSteps ({warmupSteps}) is longer than the run (totalSteps = {totalSteps}).");
        var decaySteps = decay.Resolve(totalSteps);
        if (warmupSteps + decaySteps > totalSteps)
            throw new ArgumentOutOfRangeException(nameof(decay), decaySteps,
                $"The warm-up ({warmupSteps} steps) and the decay ({decaySteps} steps) do not fit together in the run (totalSteps = {totalSteps}).");
        return new PhaseLayout(warmupSteps, totalSteps - decaySteps, decaySteps, decayShape, minRatio,
            ScheduleGuard.HalfLife(decayShape, halfLifeSteps, decaySteps), warmupShape);
    }

    /// <summary>A layout whose stable phase goes on until <see cref="StartDecayAt"/> or <see cref="BranchDecay"/> says otherwise.</summary>
    /// <param name="warmupSteps">Warm-up steps.</param>
    /// <param name="decaySteps">The length of the decay once it starts.</param>
    /// <param name="decayShape">The decay's shape.</param>
    /// <param name="minRatio">The floor as a fraction of the peak.</param>
    /// <param name="halfLifeSteps">The half-life for <see cref="DecayShape.Exponential"/>; null: <see cref="DefaultHalfLifeSteps"/> of the decay for that shape, 0 for the others.</param>
    /// <param name="warmupShape">The warm-up's shape.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range.</exception>
    public static PhaseLayout OpenEnded(long warmupSteps, long decaySteps, DecayShape decayShape = DecayShape.Linear,
        double minRatio = 0, long? halfLifeSteps = null, WarmupShape warmupShape = WarmupShape.Linear) =>
        new(warmupSteps, null, decaySteps, decayShape, minRatio, ScheduleGuard.HalfLife(decayShape, halfLifeSteps, decaySteps), warmupShape);

    /// <summary>
    /// The half-life an <see cref="DecayShape.Exponential"/> decay of <paramref name="decaySteps"/> steps gets when none
    /// is given: a tenth of the decay (rounded, at least 1), so the shape has fallen to within
    /// <c>0.5^10 &#8776; 0.1%</c> of the way to the floor when the decay's last step sets the floor itself.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decaySteps"/> is below 1.</exception>
    public static long DefaultHalfLifeSteps(long decaySteps) =>
        Math.Max(1, (long)Math.Round(ScheduleGuard.Positive(decaySteps, nameof(decaySteps)) / 10.0, MidpointRounding.AwayFromZero));

    /// <summary>The multiplier of the peak rate for the update at <paramref name="step"/> (0 is the first), in <c>[0, 1]</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    public double MultiplierAt(long step)
    {
        ScheduleGuard.Step(step);
        if (step < WarmupSteps) return ScheduleMath.WarmupFactor(WarmupShape, step + 1, WarmupSteps);
        if (DecayStart is not { } decayStart || step < decayStart) return 1;
        var position = step - decayStart + 1;
        if (position >= DecaySteps) return MinRatio;
        return ScheduleMath.DecayFactor(DecayShape, position, DecaySteps, MinRatio, HalfLifeSteps);
    }

    /// <summary>This layout as JSON (camelCase, enums by name), for checkpoints.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ScheduleJson.Options);

    /// <summary>Reads a layout written by <see cref="ToJson"/>; the layout is validated as on construction.</summary>
    /// <exception cref="JsonException">The text is not a layout.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The stored layout is not valid.</exception>
    public static PhaseLayout FromJson(string json) => ScheduleJson.Read<PhaseLayout>(json);
}
