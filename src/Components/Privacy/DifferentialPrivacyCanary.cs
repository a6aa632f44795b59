using Pipelines.Components.Sparsity;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Privacy;

/// <summary>A one-batch check before DP training: the first real step, after which trainable parameters have moved and frozen or pruned ones have not.</summary>
/// <remarks>
/// The canary is an ordinary, accounted DP step (it touches the data, so the accountant counts it); it runs steps until
/// one samples at least one example (an empty Poisson batch checks no norm), at most <c>maximumSteps</c>. It fails when
/// a trainable parameter tensor did not change anywhere, a frozen parameter or a pruned weight changed at all (e.g. the
/// chain lacks <see cref="ApplyMaskTransform"/>, so noise reaches pruned weights), or an example's per-example norm
/// was not finite. With noise (sigma &gt; 0) every trainable entry moves (Abadi et al. 2016, arXiv 1607.00133).
/// </remarks>
public static class DifferentialPrivacyCanary
{
    /// <summary>Runs the canary step(s) of <paramref name="step"/> and checks them.</summary>
    /// <param name="step">The DP step of the run (its first steps are the canary).</param>
    /// <param name="isTrainable">The model's trainable set (e.g. <c>model.IsTrainable</c>).</param>
    /// <param name="mask">Pruned weights that must not move, or null.</param>
    /// <param name="maximumSteps">Steps to try for a non-empty batch.</param>
    /// <returns>The reports of the steps taken.</returns>
    /// <exception cref="InvalidOperationException">A check failed; the message lists every failure.</exception>
    /// <exception cref="ArgumentOutOfRangeException">maximumSteps is below 1.</exception>
    public static IReadOnlyList<DifferentiallyPrivateStepReport> Run(
        DifferentiallyPrivateStep step, Func<ParameterSlice, bool> isTrainable, PruningMask? mask = null, int maximumSteps = 10)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(isTrainable);
        ArgumentOutOfRangeException.ThrowIfLessThan(maximumSteps, 1);
        var arena = step.Parameters;
        var before = arena.Values.ToArray();
        var reports = new List<DifferentiallyPrivateStepReport>();
        do reports.Add(step.Run());
        while (reports[^1].BatchSize == 0 && !reports[^1].BudgetExhausted && reports.Count < maximumSteps);

        var problems = new List<string>();
        if (reports[^1].BudgetExhausted) problems.Add("The budget allows no step.");
        if (reports.All(report => report.BatchSize == 0)) problems.Add($"No example was sampled in {reports.Count} steps: per-example norms were not checked.");
        if (reports.Any(report => !report.NormsAreFinite)) problems.Add("A per-example gradient norm was NaN or infinite.");
        var after = arena.Values;
        foreach (var parameter in arena.Parameters)
        {
            var range = parameter.Range;
            ReadOnlySpan<float> old = before.AsSpan(range);
            ReadOnlySpan<float> current = after[range];
            var kept = mask is null ? ReadOnlySpan<float>.Empty : mask.Buffer[range];
            if (!isTrainable(parameter))
            {
                if (!old.SequenceEqual(current)) problems.Add($"Frozen parameter '{parameter.Name}' changed.");
                continue;
            }

            var moved = false;
            for (var index = 0; index < old.Length; index++)
            {
                var pruned = !kept.IsEmpty && kept[index] == 0;
                if (pruned && old[index] != current[index])
                {
                    problems.Add($"Pruned weight {parameter.Name}[{index}] changed from {old[index]} to {current[index]}.");
                    break;
                }

                moved |= !pruned && old[index] != current[index];
            }

            if (!moved) problems.Add($"Trainable parameter '{parameter.Name}' did not move.");
        }

        if (problems.Count > 0)
            throw new InvalidOperationException("The DP canary step failed:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(problem => "- " + problem)));
        return reports;
    }
}
