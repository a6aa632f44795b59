namespace Pipelines.Components.Privacy;

/// <summary>The (epsilon, delta) guarantee a private training run ended with, and the settings it was accounted under; saved with the model.</summary>
/// <param name="Epsilon">Epsilon spent (RDP accountant, Mironov 2017, arXiv 1702.07476), at most <paramref name="TargetEpsilon"/>.</param>
/// <param name="Delta">delta of the guarantee.</param>
/// <param name="TargetEpsilon">The budget the run was held to.</param>
/// <param name="Steps">DP updates taken (each accounted as one Poisson-subsampled Gaussian step).</param>
/// <param name="SamplingRate">q.</param>
/// <param name="NoiseMultiplier">The accounted sigma of the last step (the controller may have changed it).</param>
/// <param name="ClipNorms">The clipping norms C_g of the last step.</param>
/// <param name="Conversion">The RDP-to-(epsilon, delta) conversion.</param>
/// <param name="Controller">The controller (<c>Fixed</c> or the RLDP settings).</param>
/// <param name="StoppedByBudget">The run ended before its planned steps because the next step would have exceeded the budget.</param>
public sealed record PrivacyGuarantee(
    double Epsilon, double Delta, double TargetEpsilon, long Steps, double SamplingRate, double NoiseMultiplier, IReadOnlyList<double> ClipNorms,
    EpsilonConversion Conversion, string Controller, bool StoppedByBudget)
{
    /// <summary>"(epsilon, delta)-DP after n steps".</summary>
    public override string ToString() =>
        FormattableString.Invariant($"({Epsilon:G4}, {Delta:G3})-DP after {Steps} steps (target epsilon {TargetEpsilon:G4}, q {SamplingRate:G4}, sigma {NoiseMultiplier:G4})");
}
