namespace Pipelines.Components.Schedules;

/// <summary>How the areas <c>S1</c> and <c>S2</c> of the annealing loss law are taken from a schedule.</summary>
/// <remarks>arXiv 2408.11029 (Tissue et al.): warm-up steps are counted at the peak rate; <c>lambda = 0.999</c>.</remarks>
public sealed record AnnealingAreaOptions
{
    /// <summary>Creates area options.</summary>
    /// <param name="warmupSteps">Steps <c>0..W-1</c> of warm-up, counted at the peak rate when <paramref name="countWarmupAtPeak"/>.</param>
    /// <param name="momentumDecay">The decay <c>lambda</c> of the annealing momentum, in <c>[0, 1)</c>; the paper's 0.999.</param>
    /// <param name="countWarmupAtPeak">Replace the warm-up's rates by the peak in both sums (the paper's convention).</param>
    /// <param name="peakLearningRate">The peak used for the warm-up; null: the schedule's rate at the warm-up's last step, <paramref name="warmupSteps"/> - 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range; the message names it and its value.</exception>
    public AnnealingAreaOptions(long warmupSteps = 0, double momentumDecay = 0.999, bool countWarmupAtPeak = true,
        double? peakLearningRate = null)
    {
        WarmupSteps = ScheduleGuard.NonNegative(warmupSteps, nameof(warmupSteps));
        if (!(momentumDecay >= 0 && momentumDecay < 1))
            throw new ArgumentOutOfRangeException(nameof(momentumDecay), momentumDecay, $"momentumDecay (lambda) must lie in [0, 1); got {momentumDecay}.");
        MomentumDecay = momentumDecay;
        CountWarmupAtPeak = countWarmupAtPeak;
        if (peakLearningRate is { } peak) ScheduleGuard.Rate(peak, nameof(peakLearningRate));
        PeakLearningRate = peakLearningRate;
    }

    /// <summary>The paper's settings without a warm-up: lambda 0.999.</summary>
    public static AnnealingAreaOptions Default { get; } = new();

    /// <summary>Warm-up steps <c>W</c>.</summary>
    public long WarmupSteps { get; }

    /// <summary>The momentum decay <c>lambda</c>.</summary>
    public double MomentumDecay { get; }

    /// <summary>Whether warm-up steps count at the peak rate.</summary>
    public bool CountWarmupAtPeak { get; }

    /// <summary>The peak used for the warm-up; null: the schedule's rate at the warm-up's last step, <see cref="WarmupSteps"/> - 1.</summary>
    public double? PeakLearningRate { get; }
}

/// <summary>The forward area <c>S1</c> and the annealing area <c>S2</c> of a schedule at some steps.</summary>
/// <remarks>
/// With <c>e_i</c> the schedule's rate at step <c>i</c> (step 0 = the first update), replaced by the peak for
/// <c>i &lt; W</c> when warm-up counts at the peak:
/// <code>
/// S1(s) = sum_{i=0..s} e_i
/// m_0 = 0,  m_i = lambda m_(i-1) + (e_(i-1) - e_i),   S2(s) = sum_{i=0..s} m_i
/// </code>
/// so <c>S1(s)</c> sums the <c>s + 1</c> rates of steps 0 to <c>s</c>: the rates a run actually used for its first
/// <c>s + 1</c> updates (the schedules here run step 0 at <c>w(1/W)</c> and a run's last step at the floor). The check
/// values of arXiv 2408.11029 (peak 2e-4, 20k steps, 500 warm-up, lambda 0.999: constant S1(10k) = 2.000200,
/// S1(20k) = 4.000200, S2 = 0; cosine to 0: S1(10k) = 1.670353, S2(10k) = 0.080400, S1(20k) = 2.050100,
/// S2(20k) = 0.197474) come from a cosine at the peak at step 500 and at 0 at step 20000, i.e. a run of 20001 steps
/// whose warm-up ends at step 500: <c>new CosineSchedule(2e-4, totalSteps: 20_001, warmupSteps: 501)</c>.
/// </remarks>
public sealed class AnnealingAreas
{
    internal AnnealingAreas(long[] steps, double[] s1, double[] s2)
    {
        Steps = steps;
        S1 = s1;
        S2 = s2;
    }

    /// <summary>The steps, in the order asked for.</summary>
    public IReadOnlyList<long> Steps { get; }

    /// <summary>The forward area <c>S1</c> at each step.</summary>
    public IReadOnlyList<double> S1 { get; }

    /// <summary>The annealing (momentum) area <c>S2</c> at each step.</summary>
    public IReadOnlyList<double> S2 { get; }

    /// <summary>Computes the areas of <paramref name="schedule"/> at <paramref name="steps"/> (any order), in double.</summary>
    /// <remarks>One pass over steps 0 to the largest asked for; see the type's remarks for the formulas.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A negative step.</exception>
    /// <exception cref="InvalidOperationException">The schedule returned a negative or non-finite rate.</exception>
    public static AnnealingAreas Compute(ISchedule schedule, IReadOnlyList<long> steps, AnnealingAreaOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(steps);
        options ??= AnnealingAreaOptions.Default;
        var requested = steps.ToArray();
        for (var index = 0; index < requested.Length; index++)
            if (requested[index] < 0)
                throw new ArgumentOutOfRangeException(nameof(steps), requested[index], $"steps[{index}] = {requested[index]} is negative.");
        var order = Enumerable.Range(0, requested.Length).OrderBy(index => requested[index]).ToArray();
        var s1 = new double[requested.Length];
        var s2 = new double[requested.Length];
        if (requested.Length == 0) return new AnnealingAreas(requested, s1, s2);

        var peak = options.PeakLearningRate ?? (options.WarmupSteps > 0 ? schedule.ValueAt(options.WarmupSteps - 1) : 0);
        double forward = 0, annealing = 0, momentum = 0, previousRate = 0;
        var next = 0;
        for (long step = 0; next < order.Length; step++)
        {
            var rate = options.CountWarmupAtPeak && step < options.WarmupSteps ? peak : schedule.ValueAt(step);
            if (!double.IsFinite(rate) || rate < 0)
                throw new InvalidOperationException($"The schedule returned the rate {rate} at step {step}; the areas need finite rates >= 0.");
            if (step > 0) momentum = options.MomentumDecay * momentum + (previousRate - rate);
            forward += rate;
            annealing += momentum;
            previousRate = rate;
            for (; next < order.Length && requested[order[next]] == step; next++)
            {
                s1[order[next]] = forward;
                s2[order[next]] = annealing;
            }
        }

        return new AnnealingAreas(requested, s1, s2);
    }
}
