namespace Pipelines.Components.Sparsity;

/// <summary>How gradual magnitude pruning runs during pre-training: the sparsity ramp, its calendar and the criterion.</summary>
/// <remarks>
/// Defaults follow sparse pre-training (arXiv 2501.12486): a cubic ramp (Zhu &amp; Gupta, arXiv 1710.01878) from
/// 0 at 25% of the run to the final sparsity at 75%, pruning every 100 steps, each linear weight pruned on its
/// own. Validated once, by <see cref="Validate"/> (which <see cref="GradualPruner"/> calls).
/// </remarks>
public sealed record PruningOptions
{
    /// <summary>s_i, the target at the first pruning step; in [0, <see cref="FinalSparsity"/>]. Usually 0.</summary>
    public double InitialSparsity { get; init; }

    /// <summary>s_f, the sparsity of the prunable weights at the end, in [0, 1). 0.5 is a middle of the paper's range.</summary>
    public double FinalSparsity { get; init; } = 0.5;

    /// <summary>t0 / T: where pruning starts, in [0, 1]. 25% in the paper (near-optimal among 80 schedules).</summary>
    public double StartFraction { get; init; } = 0.25;

    /// <summary>t1 / T: where the final sparsity is reached, in [<see cref="StartFraction"/>, 1]. 75% in the paper.</summary>
    public double EndFraction { get; init; } = 0.75;

    /// <summary>dt: prune every this many steps (at least 1). 100 to 1000 make little difference at scale; short runs want less.</summary>
    public long PruningInterval { get; init; } = 100;

    /// <summary>T, the run's length in updates (at least 1); the fractions are of this.</summary>
    public required long TotalSteps { get; init; }

    /// <summary>Which weights compete for pruning.</summary>
    public PruningCriterionKind Criterion { get; init; } = PruningCriterionKind.Layerwise;

    /// <summary>The shape of the ramp (<see cref="SparsityScheduleKind.OneShot"/> prunes at <see cref="StartFraction"/>).</summary>
    public SparsityScheduleKind Schedule { get; init; } = SparsityScheduleKind.Cubic;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option and its value.</summary>
    public void Validate()
    {
        if (!(FinalSparsity >= 0 && FinalSparsity < 1))
            throw new ArgumentOutOfRangeException(nameof(FinalSparsity), FinalSparsity, "Must lie in [0, 1).");
        if (!(InitialSparsity >= 0 && InitialSparsity <= FinalSparsity))
            throw new ArgumentOutOfRangeException(nameof(InitialSparsity), InitialSparsity, $"Must lie in [0, {nameof(FinalSparsity)} = {FinalSparsity}].");
        if (!(StartFraction >= 0 && StartFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(StartFraction), StartFraction, "Must lie in [0, 1].");
        if (!(EndFraction >= StartFraction && EndFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(EndFraction), EndFraction, $"Must lie in [{nameof(StartFraction)} = {StartFraction}, 1].");
        if (PruningInterval < 1) throw new ArgumentOutOfRangeException(nameof(PruningInterval), PruningInterval, "Must be at least 1.");
        if (TotalSteps < 1) throw new ArgumentOutOfRangeException(nameof(TotalSteps), TotalSteps, "Must be at least 1.");
        if (!Enum.IsDefined(Criterion)) throw new ArgumentOutOfRangeException(nameof(Criterion), Criterion, "Unknown criterion.");
        if (!Enum.IsDefined(Schedule)) throw new ArgumentOutOfRangeException(nameof(Schedule), Schedule, "Unknown schedule.");
    }

    /// <summary>The schedule these options describe (validates first).</summary>
    public ISparsitySchedule CreateSchedule()
    {
        Validate();
        return Schedule switch
        {
            SparsityScheduleKind.Cubic => new CubicSparsitySchedule(InitialSparsity, FinalSparsity, TotalSteps, PruningInterval, StartFraction, EndFraction),
            SparsityScheduleKind.Linear => new LinearSparsitySchedule(InitialSparsity, FinalSparsity, TotalSteps, PruningInterval, StartFraction, EndFraction),
            _ => new OneShotSparsitySchedule(FinalSparsity, PruningCalendar.FromFractions(TotalSteps, StartFraction, StartFraction, 1).StartStep, TotalSteps),
        };
    }

    /// <summary>The criterion these options describe (validates first).</summary>
    public IPruningCriterion CreateCriterion()
    {
        Validate();
        return Criterion == PruningCriterionKind.Global ? new GlobalMagnitudeCriterion() : new LayerwiseMagnitudeCriterion();
    }
}
