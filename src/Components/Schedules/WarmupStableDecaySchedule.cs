using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipelines.Components.Schedules;

/// <summary>Warmup-stable-decay (WSD): a warm-up to the peak, the peak for as long as wanted, then a short decay.</summary>
/// <remarks>
/// <code>
/// lr(s) = peak * w((s+1)/W)                  s &lt; W          (warm-up; linear by default; step 0 at peak/W)
///       = peak                               W &lt;= s &lt; T     (stable)
///       = peak * (m + (1-m) * f(p))          T &lt;= s &lt; S,    p = (s + 1 - T)/(S - T)   (decay)
///       = m * peak                           s &gt;= S - 1     (the run's last step runs at the floor)
/// </code>
/// Step 0 is the first update and a run of <c>S</c> steps executes steps <c>0..S-1</c> (see <see cref="PhaseLayout"/>).
/// MiniCPM, arXiv 2404.06395 (WSD, exponential decay); arXiv 2410.05192 (WSD-S, inverse decay
/// <c>peak / ((1/m - 1) p + 1)</c>). The phases live in <see cref="Layout"/>; this record adds the peak.
/// A schedule with an undecided decay start stays at the peak until <see cref="StartDecayAt"/>.
/// </remarks>
public sealed record WarmupStableDecaySchedule : ISchedule
{
    /// <summary>Creates the schedule of <paramref name="layout"/> at <paramref name="peakLearningRate"/>.</summary>
    /// <param name="peakLearningRate">The stable rate; finite and &gt;= 0.</param>
    /// <param name="layout">The phases.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="peakLearningRate"/> is negative, NaN or infinite.</exception>
    [JsonConstructor]
    public WarmupStableDecaySchedule(double peakLearningRate, PhaseLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        PeakLearningRate = ScheduleGuard.Rate(peakLearningRate, nameof(peakLearningRate));
        Layout = layout;
    }

    /// <summary>Creates the WSD schedule of a run of <paramref name="totalSteps"/> steps (see <see cref="PhaseLayout.ForRun"/>).</summary>
    /// <param name="peakLearningRate">The stable rate; finite and &gt;= 0.</param>
    /// <param name="totalSteps">The run's length <c>S</c>: its last step, <c>S - 1</c>, runs at <c>m * peak</c>.</param>
    /// <param name="decay">The decay's length, in steps or as a fraction of the run.</param>
    /// <param name="warmupSteps">Warm-up steps <c>W</c>.</param>
    /// <param name="decayShape">The decay's shape.</param>
    /// <param name="minRatio">The floor <c>m</c> as a fraction of the peak.</param>
    /// <param name="halfLifeSteps">The half-life for <see cref="DecayShape.Exponential"/>; null: <see cref="PhaseLayout.DefaultHalfLifeSteps"/> of the decay for that shape, 0 for the others.</param>
    /// <param name="warmupShape">The warm-up's shape.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range; the message names it and its value.</exception>
    public WarmupStableDecaySchedule(double peakLearningRate, long totalSteps, DecayLength decay, long warmupSteps = 0,
        DecayShape decayShape = DecayShape.Linear, double minRatio = 0, long? halfLifeSteps = null,
        WarmupShape warmupShape = WarmupShape.Linear)
        : this(peakLearningRate, PhaseLayout.ForRun(totalSteps, decay, warmupSteps, decayShape, minRatio, halfLifeSteps, warmupShape))
    {
    }

    /// <summary>The stable rate.</summary>
    public double PeakLearningRate { get; }

    /// <summary>The phases.</summary>
    public PhaseLayout Layout { get; }

    /// <summary>A WSD schedule whose stable phase goes on until <see cref="StartDecayAt"/> or <see cref="BranchDecay"/>.</summary>
    /// <param name="peakLearningRate">The stable rate.</param>
    /// <param name="warmupSteps">Warm-up steps.</param>
    /// <param name="decaySteps">The decay's length once it starts.</param>
    /// <param name="decayShape">The decay's shape.</param>
    /// <param name="minRatio">The floor as a fraction of the peak.</param>
    /// <param name="halfLifeSteps">The half-life for <see cref="DecayShape.Exponential"/>; null: <see cref="PhaseLayout.DefaultHalfLifeSteps"/> of the decay for that shape, 0 for the others.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range.</exception>
    public static WarmupStableDecaySchedule OpenEnded(double peakLearningRate, long warmupSteps, long decaySteps,
        DecayShape decayShape = DecayShape.Linear, double minRatio = 0, long? halfLifeSteps = null) =>
        new(peakLearningRate, PhaseLayout.OpenEnded(warmupSteps, decaySteps, decayShape, minRatio, halfLifeSteps));

    /// <inheritdoc />
    public double ValueAt(long step) => PeakLearningRate * Layout.MultiplierAt(step);

    /// <summary>This schedule with the stable phase <paramref name="steps"/> longer (see <see cref="PhaseLayout.ExtendStable"/>).</summary>
    public WarmupStableDecaySchedule ExtendStable(long steps) => new(PeakLearningRate, Layout.ExtendStable(steps));

    /// <summary>This schedule with the decay starting at <paramref name="step"/> (see <see cref="PhaseLayout.StartDecayAt"/>).</summary>
    public WarmupStableDecaySchedule StartDecayAt(long step) => new(PeakLearningRate, Layout.StartDecayAt(step));

    /// <summary>The schedule of a decay branched from the stable checkpoint at <paramref name="fromStep"/> (see <see cref="PhaseLayout.BranchDecay"/>).</summary>
    public WarmupStableDecaySchedule BranchDecay(long fromStep, long decaySteps) =>
        new(PeakLearningRate, Layout.BranchDecay(fromStep, decaySteps));

    /// <summary>The differences from this schedule to <paramref name="other"/>: the peak's, then the layout's.</summary>
    public IReadOnlyList<string> DescribeDifferences(WarmupStableDecaySchedule other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var differences = new List<string>();
        if (PeakLearningRate != other.PeakLearningRate)
            differences.Add(string.Create(CultureInfo.InvariantCulture,
                $"peak learning rate changed from {PeakLearningRate:R} to {other.PeakLearningRate:R}"));
        differences.AddRange(Layout.DescribeDifferences(other.Layout));
        return differences;
    }

    /// <summary>This schedule as JSON (camelCase, enums by name), for checkpoints.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ScheduleJson.Options);

    /// <summary>Reads a schedule written by <see cref="ToJson"/>, validated as on construction.</summary>
    /// <exception cref="JsonException">The text is not such a schedule.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The stored schedule is not valid.</exception>
    public static WarmupStableDecaySchedule FromJson(string json) => ScheduleJson.Read<WarmupStableDecaySchedule>(json);
}
