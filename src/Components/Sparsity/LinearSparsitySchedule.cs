namespace Pipelines.Components.Sparsity;

/// <summary>A straight sparsity ramp from s_i at t0 to s_f at t1, pruning every dt steps.</summary>
/// <remarks>
/// <c>s_t = s_i + (s_f - s_i) (t - t0)/(t1 - t0)</c> for t in [t0, t1], on the calendar of
/// <see cref="RampSparsitySchedule"/>: a baseline against the cubic ramp of Zhu &amp; Gupta (arXiv 1710.01878).
/// </remarks>
public sealed class LinearSparsitySchedule : RampSparsitySchedule
{
    /// <summary>Creates the schedule; see <see cref="RampSparsitySchedule"/> for the arguments.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range (the exception names it).</exception>
    public LinearSparsitySchedule(double initialSparsity, double finalSparsity, long totalSteps, long pruningInterval, double startFraction = 0.25, double endFraction = 0.75)
        : base(initialSparsity, finalSparsity, totalSteps, pruningInterval, startFraction, endFraction)
    {
    }

    /// <inheritdoc />
    protected override double RampAt(double progress) => InitialSparsity + (FinalSparsity - InitialSparsity) * progress;
}
