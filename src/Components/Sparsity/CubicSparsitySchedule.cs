namespace Pipelines.Components.Sparsity;

/// <summary>Zhu &amp; Gupta's cubic sparsity ramp: fast pruning early, slowing down as the target nears.</summary>
/// <remarks>
/// <c>s_t = s_f + (s_i - s_f) (1 - (t - t0)/(t1 - t0))^3</c> for t in [t0, t1] (Zhu &amp; Gupta, arXiv 1710.01878),
/// on the calendar of <see cref="RampSparsitySchedule"/>. Sparse pre-training (arXiv 2501.12486) found t0 = 25% and
/// t1 = 75% of the run near-optimal; dt between 100 and 1000 makes little difference.
/// </remarks>
public sealed class CubicSparsitySchedule : RampSparsitySchedule
{
    /// <summary>Creates the schedule; see <see cref="RampSparsitySchedule"/> for the arguments.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range (the exception names it).</exception>
    public CubicSparsitySchedule(double initialSparsity, double finalSparsity, long totalSteps, long pruningInterval, double startFraction = 0.25, double endFraction = 0.75)
        : base(initialSparsity, finalSparsity, totalSteps, pruningInterval, startFraction, endFraction)
    {
    }

    /// <inheritdoc />
    protected override double RampAt(double progress)
    {
        var remaining = 1.0 - progress;
        return FinalSparsity + (InitialSparsity - FinalSparsity) * remaining * remaining * remaining;
    }
}
