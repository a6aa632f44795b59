namespace Pipelines.Components.Privacy;

/// <summary>What a DP training loop does when the next step would spend more than its budget.</summary>
public enum OnBudgetExhausted
{
    /// <summary>Skip the step and report the budget as exhausted; training ends there.</summary>
    Stop,

    /// <summary>Throw <see cref="PrivacyBudgetExhaustedException"/> before the step.</summary>
    Throw,
}

/// <summary>The (epsilon, delta) contract of a DP training run: no step is taken that would bring epsilon above the target.</summary>
/// <remarks>
/// Before each step the accountant is advanced on a copy (Mironov 2017, arXiv 1702.07476); if the projected epsilon at
/// <see cref="Delta"/> exceeds <see cref="TargetEpsilon"/>, the step does not happen (sampling included), so the run's
/// final epsilon is at most the target. Set at construction and validated once.
/// </remarks>
public sealed record PrivacyBudget
{
    /// <summary>A budget of (<paramref name="targetEpsilon"/>, <paramref name="delta"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">epsilon is not finite and positive, delta is outside (0, 1), or the choice is unknown.</exception>
    public PrivacyBudget(double targetEpsilon, double delta, OnBudgetExhausted onExhausted = OnBudgetExhausted.Stop)
    {
        if (!double.IsFinite(targetEpsilon) || targetEpsilon <= 0)
            throw new ArgumentOutOfRangeException(nameof(TargetEpsilon), targetEpsilon, "The target epsilon must be finite and positive.");
        if (!Enum.IsDefined(onExhausted))
            throw new ArgumentOutOfRangeException(nameof(OnExhausted), onExhausted, "Choose Stop or Throw.");
        TargetEpsilon = targetEpsilon;
        Delta = PrivacyGuard.Delta(delta, nameof(Delta));
        OnExhausted = onExhausted;
    }

    /// <summary>The largest epsilon the run may reach.</summary>
    public double TargetEpsilon { get; }

    /// <summary>delta of the guarantee, in (0, 1); must equal the options' delta.</summary>
    public double Delta { get; }

    /// <summary>Stop or throw when the next step would exceed the budget (default Stop).</summary>
    public OnBudgetExhausted OnExhausted { get; }
}

/// <summary>The next DP step would spend more privacy than the budget allows.</summary>
public sealed class PrivacyBudgetExhaustedException : InvalidOperationException
{
    /// <summary>Creates the exception with the epsilons involved.</summary>
    public PrivacyBudgetExhaustedException(double spentEpsilon, double projectedEpsilon, double targetEpsilon)
        : base($"The next step would bring epsilon from {spentEpsilon:G6} to {projectedEpsilon:G6}, above the budget's {targetEpsilon:G6}; no step was taken.")
    {
        SpentEpsilon = spentEpsilon;
        ProjectedEpsilon = projectedEpsilon;
        TargetEpsilon = targetEpsilon;
    }

    /// <summary>Epsilon spent so far.</summary>
    public double SpentEpsilon { get; }

    /// <summary>Epsilon after the refused step.</summary>
    public double ProjectedEpsilon { get; }

    /// <summary>The budget's target.</summary>
    public double TargetEpsilon { get; }
}
