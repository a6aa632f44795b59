namespace Pipelines.Components.Schedules;

/// <summary>The result of <see cref="AnnealingLossLaw.Fit"/>.</summary>
/// <param name="Parameters">The best parameters found over all starts.</param>
/// <param name="Objective">The objective at <paramref name="Parameters"/>: the sum over all points of Huber(log L_obs - log L_pred).</param>
/// <param name="MeanAbsoluteRelativeErrors">Per curve, in the order given: the mean of |L_pred - L_obs| / L_obs.</param>
/// <param name="StartCount">How many starts were run.</param>
/// <param name="FailedStartCount">How many starts ended in an optimizer error (their best point still counts).</param>
public sealed record LossLawFit(LossLawParameters Parameters, double Objective, IReadOnlyList<double> MeanAbsoluteRelativeErrors,
    int StartCount, int FailedStartCount);
