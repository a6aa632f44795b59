namespace Pipelines.Components.Sparsity;

/// <summary>Prunes once, straight to the final sparsity, at one step; dense before it.</summary>
/// <remarks>
/// The one-shot baseline of gradual pruning (Zhu &amp; Gupta, arXiv 1710.01878). Pruning at step 0 gives a
/// model sparse from initialisation (the training loop must then call the pruner once before the first update).
/// </remarks>
public sealed class OneShotSparsitySchedule : ISparsitySchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="finalSparsity">s_f, in [0, 1).</param>
    /// <param name="pruningStep">The step at which to prune, in [0, <paramref name="totalSteps"/>].</param>
    /// <param name="totalSteps">The run's length in updates, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range (the exception names it).</exception>
    public OneShotSparsitySchedule(double finalSparsity, long pruningStep, long totalSteps)
    {
        if (!(finalSparsity >= 0 && finalSparsity < 1))
            throw new ArgumentOutOfRangeException(nameof(finalSparsity), finalSparsity, "Must lie in [0, 1).");
        if (totalSteps < 1) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "Must be at least 1.");
        if (pruningStep < 0 || pruningStep > totalSteps)
            throw new ArgumentOutOfRangeException(nameof(pruningStep), pruningStep, $"Must lie in [0, total steps {totalSteps}].");
        (FinalSparsity, PruningStep, TotalSteps) = (finalSparsity, pruningStep, totalSteps);
    }

    /// <inheritdoc />
    public double FinalSparsity { get; }

    /// <summary>The one pruning step.</summary>
    public long PruningStep { get; }

    /// <inheritdoc />
    public long TotalSteps { get; }

    /// <inheritdoc />
    public double TargetSparsityAt(long step)
    {
        PruningCalendar.ValidateStep(step);
        return step >= PruningStep ? FinalSparsity : 0;
    }

    /// <inheritdoc />
    public bool IsPruningStep(long step)
    {
        PruningCalendar.ValidateStep(step);
        return step == PruningStep;
    }

    /// <inheritdoc />
    public double AppliedSparsityAt(long step) => TargetSparsityAt(step);
}
