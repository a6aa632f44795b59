namespace Pipelines.Components.Sparsity;

/// <summary>
/// The average parameter count a pruning schedule gives, and the final sparsity a sparse model needs to match a
/// dense model's average parameter count.
/// </summary>
/// <remarks>
/// <para>Sparse pre-training (arXiv 2501.12486) compares models by <c>Nbar = (1/T) sum_t N(t)</c>. For a model of
/// P prunable and F other parameters whose prunable part has mean sparsity m over the run,
/// <c>Nbar = F + P (1 - m)</c>; a dense model of N parameters has Nbar = N.</para>
/// <para>Continuous mean sparsity, with u = t/T, u0 and u1 the start and end fractions, s(u) = 0 before u0 (no
/// pruning yet), the ramp on [u0, u1] and s_f after:</para>
/// <list type="bullet">
/// <item>cubic: the integral of s_f + (s_i - s_f)(1 - v)^3 over v in [0, 1] is s_f + (s_i - s_f)/4, so
/// <c>m = (u1 - u0)(3 s_f + s_i)/4 + (1 - u1) s_f</c>; for u0 = 0.25, u1 = 0.75, s_i = 0:
/// m = 0.5 * 0.75 s_f + 0.25 s_f = 0.625 s_f;</item>
/// <item>linear: <c>m = (u1 - u0)(s_i + s_f)/2 + (1 - u1) s_f</c>;</item>
/// <item>one-shot at u0: <c>m = (1 - u0) s_f</c>.</item>
/// </list>
/// <para>Each is affine in s_f, so the required final sparsity is
/// <c>s_f = (1 - (Nbar - F)/P - c0) / c1</c> with m = c0 + c1 s_f. With pruning every dt steps the applied
/// sparsity is a staircase, <c>m = (1/T) sum_{t=1..T} applied(t - 1)</c> (<see cref="MeanAppliedSparsity"/>);
/// it is still affine in s_f (every target is), so two evaluations solve it exactly. Per-layer rounding of
/// pruned counts moves the realised Nbar by at most one parameter per layer and pruning step.</para>
/// </remarks>
public static class SparsityBudget
{
    /// <summary>The mean sparsity of the prunable part over a run under the continuous (dt → 0) ramp.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range (the exception names it).</exception>
    public static double ContinuousMeanSparsity(SparsityScheduleKind kind, double initialSparsity, double finalSparsity, double startFraction = 0.25, double endFraction = 0.75)
    {
        ScheduleArguments.Validate(initialSparsity, finalSparsity, 1, 1, startFraction, endFraction);
        var (offset, slope) = ContinuousCoefficients(kind, initialSparsity, startFraction, endFraction);
        return offset + slope * finalSparsity;
    }

    /// <summary>The mean applied (staircase) sparsity over the run: <c>(1/T) sum_{t=1..T} AppliedSparsityAt(t - 1)</c>.</summary>
    public static double MeanAppliedSparsity(ISparsitySchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        double sum = 0;
        for (var step = 0L; step < schedule.TotalSteps; step++) sum += schedule.AppliedSparsityAt(step);
        return sum / schedule.TotalSteps;
    }

    /// <summary>Nbar = F + P (1 - m) for <paramref name="prunableCount"/> = P, <paramref name="fixedCount"/> = F and mean sparsity m.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative or the sparsity is outside [0, 1].</exception>
    public static double ExpectedAverageParameterCount(long prunableCount, long fixedCount, double meanSparsity)
    {
        ValidateCounts(prunableCount, fixedCount);
        if (!(meanSparsity >= 0 && meanSparsity <= 1)) throw new ArgumentOutOfRangeException(nameof(meanSparsity), meanSparsity, "Must lie in [0, 1].");
        return fixedCount + prunableCount * (1 - meanSparsity);
    }

    /// <summary>
    /// The final sparsity a model of <paramref name="prunableCount"/> prunable and <paramref name="fixedCount"/>
    /// other parameters needs so that its Nbar equals <paramref name="targetAverageCount"/> (e.g. a dense model's
    /// size) under the continuous ramp of the given kind.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The target is not reachable with a final sparsity in [s_i, 1), or an argument is out of range.</exception>
    public static double RequiredFinalSparsityContinuous(long prunableCount, long fixedCount, double targetAverageCount, SparsityScheduleKind kind,
        double initialSparsity = 0, double startFraction = 0.25, double endFraction = 0.75)
    {
        ValidateCounts(prunableCount, fixedCount);
        ScheduleArguments.Validate(initialSparsity, initialSparsity, 1, 1, startFraction, endFraction);
        var (offset, slope) = ContinuousCoefficients(kind, initialSparsity, startFraction, endFraction);
        return Solve(prunableCount, fixedCount, targetAverageCount, offset, slope, initialSparsity);
    }

    /// <summary>
    /// Like <see cref="RequiredFinalSparsityContinuous"/> for the staircase that <paramref name="options"/> describe
    /// (its <see cref="PruningOptions.FinalSparsity"/> is ignored; everything else is used).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The target is not reachable, or an option is invalid.</exception>
    public static double RequiredFinalSparsity(long prunableCount, long fixedCount, double targetAverageCount, PruningOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ValidateCounts(prunableCount, fixedCount);
        var low = options with { FinalSparsity = options.InitialSparsity };
        var high = options with { FinalSparsity = options.InitialSparsity + (1 - options.InitialSparsity) / 2 };
        var lowMean = MeanAppliedSparsity(low.CreateSchedule());
        var highMean = MeanAppliedSparsity(high.CreateSchedule());
        var slope = (highMean - lowMean) / (high.FinalSparsity - low.FinalSparsity);
        var offset = lowMean - slope * low.FinalSparsity;
        return Solve(prunableCount, fixedCount, targetAverageCount, offset, slope, options.InitialSparsity);
    }

    private static (double Offset, double Slope) ContinuousCoefficients(SparsityScheduleKind kind, double initialSparsity, double startFraction, double endFraction)
    {
        var ramp = endFraction - startFraction;
        var tail = 1 - endFraction;
        return kind switch
        {
            SparsityScheduleKind.Cubic => (ramp * initialSparsity / 4, 3 * ramp / 4 + tail),
            SparsityScheduleKind.Linear => (ramp * initialSparsity / 2, ramp / 2 + tail),
            SparsityScheduleKind.OneShot => (0, 1 - startFraction),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown schedule."),
        };
    }

    private static double Solve(long prunableCount, long fixedCount, double targetAverageCount, double offset, double slope, double initialSparsity)
    {
        if (prunableCount == 0) throw new ArgumentOutOfRangeException(nameof(prunableCount), prunableCount, "Nothing is prunable, so no sparsity changes Nbar.");
        if (!double.IsFinite(targetAverageCount)) throw new ArgumentOutOfRangeException(nameof(targetAverageCount), targetAverageCount, "Must be finite.");
        var requiredMean = 1 - (targetAverageCount - fixedCount) / prunableCount;
        var finalSparsity = slope > 0 ? (requiredMean - offset) / slope : double.NaN;
        if (!(finalSparsity >= initialSparsity - 1e-12 && finalSparsity < 1))
            throw new ArgumentOutOfRangeException(nameof(targetAverageCount), targetAverageCount,
                $"Needs a final sparsity of {finalSparsity:G6}, outside [{initialSparsity}, 1) (mean sparsity {requiredMean:G6} of {prunableCount} prunable + {fixedCount} fixed parameters).");
        return Math.Max(finalSparsity, initialSparsity);
    }

    private static void ValidateCounts(long prunableCount, long fixedCount)
    {
        if (prunableCount < 0) throw new ArgumentOutOfRangeException(nameof(prunableCount), prunableCount, "Must not be negative.");
        if (fixedCount < 0) throw new ArgumentOutOfRangeException(nameof(fixedCount), fixedCount, "Must not be negative.");
    }
}
