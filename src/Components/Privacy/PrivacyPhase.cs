namespace Pipelines.Components.Privacy;

/// <summary>A run of identical DP-SGD steps: the same noise multiplier and sampling rate, repeated.</summary>
/// <param name="NoiseMultiplier">sigma: the noise standard deviation divided by the clipping norm; finite, at least 0.</param>
/// <param name="SamplingRate">q: the Poisson sampling probability of each example; in (0, 1].</param>
/// <param name="Steps">How many steps ran with these settings; at least 0.</param>
/// <remarks>The constructor validates, so a phase read back from a saved state is checked too.</remarks>
/// <exception cref="ArgumentOutOfRangeException">A value is outside its range (the message names it and its value).</exception>
public sealed record PrivacyPhase(double NoiseMultiplier, double SamplingRate, long Steps)
{
    /// <summary>sigma, validated.</summary>
    public double NoiseMultiplier { get; } = PrivacyGuard.NoiseMultiplier(NoiseMultiplier, nameof(NoiseMultiplier));

    /// <summary>q, validated.</summary>
    public double SamplingRate { get; } = PrivacyGuard.SamplingRate(SamplingRate, nameof(SamplingRate));

    /// <summary>The step count, validated.</summary>
    public long Steps { get; } = PrivacyGuard.Steps(Steps, nameof(Steps));

    /// <summary>This phase's RDP at each order (steps times the per-step RDP; 0 when there are no steps).</summary>
    public double[] Rdp(IReadOnlyList<double> orders) => SubsampledGaussianRdp.Compose(NoiseMultiplier, SamplingRate, Steps, orders);
}
