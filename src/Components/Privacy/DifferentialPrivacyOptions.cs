using Pipelines.Components.Optimization;

namespace Pipelines.Components.Privacy;

/// <summary>The settings of DP-SGD, each checked when set; builds the sampler, the noisy-average chain and the guarantee.</summary>
/// <remarks>
/// Abadi et al. 2016 (arXiv 1607.00133) with the accountant of Mironov 2017 (arXiv 1702.07476). A bad value throws
/// <see cref="ArgumentOutOfRangeException"/> naming the option and the value. Defaults: clip norm 1 and noise
/// multiplier 1 (Opacus's tutorials), delta 1e-5, secure noise, the improved conversion <b>(our choices)</b>.
/// Checks that need the dataset size (delta &lt; 1/N) run in <see cref="Validate"/> and in every method taking N.
/// </remarks>
public sealed record DifferentialPrivacyOptions
{
    /// <summary>Options for Poisson sampling at rate q = expected batch size / N.</summary>
    /// <exception cref="ArgumentOutOfRangeException">q is outside (0, 1].</exception>
    public DifferentialPrivacyOptions(double samplingRate) => SamplingRate = samplingRate;

    /// <summary>q, each example's probability of joining a batch, in (0, 1].</summary>
    public double SamplingRate { get; init => field = PrivacyGuard.SamplingRate(value, nameof(SamplingRate)); }

    /// <summary>C, the per-example clipping norm, above 0 (default 1).</summary>
    public double ClipNorm { get; init => field = PrivacyGuard.ClipNorm(value, nameof(ClipNorm)); } = 1;

    /// <summary>sigma, the noise standard deviation over C, at least 0 (default 1); see <see cref="CalibratedFor"/>.</summary>
    public double NoiseMultiplier { get; init => field = PrivacyGuard.NoiseMultiplier(value, nameof(NoiseMultiplier)); } = 1;

    /// <summary>delta in (0, 1) (default 1e-5); must also be below 1/N.</summary>
    public double Delta { get; init => field = PrivacyGuard.Delta(value, nameof(Delta)); } = 1e-5;

    /// <summary>Where the noise comes from (default <see cref="NoiseRandomness.Secure"/>).</summary>
    public NoiseRandomness Randomness { get; init; } = NoiseRandomness.Secure;

    /// <summary>The seed of seeded noise and sampling; must be null for secure noise.</summary>
    public ulong? Seed { get; init; }

    /// <summary>The RDP-to-epsilon conversion (default <see cref="EpsilonConversion.Improved"/>).</summary>
    public EpsilonConversion Conversion { get; init; } = EpsilonConversion.Improved;

    /// <summary>Checks the settings against a dataset of N examples: delta below 1/N, and a seed exactly when the noise is seeded.</summary>
    /// <exception cref="ArgumentOutOfRangeException">delta is not below 1/N, or N is below 1.</exception>
    /// <exception cref="ArgumentException">A seed with secure noise, or none with seeded noise.</exception>
    public void Validate(long datasetSize)
    {
        PrivacyGuard.Delta(Delta, nameof(Delta), datasetSize);
        GaussianSources.Create(Randomness, Seed);
    }

    /// <summary>The Poisson sampler over N examples.</summary>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="Validate"/>.</exception>
    /// <exception cref="ArgumentException">As <see cref="Validate"/>.</exception>
    public PoissonSampler Sampler(int datasetSize)
    {
        Validate(datasetSize);
        return new PoissonSampler(datasetSize, SamplingRate);
    }

    /// <summary><c>Chain(AddGaussianNoise(sigma, C), DivideByExpectedBatchSize(q, N))</c>, flat clipping groups.</summary>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="Validate"/>.</exception>
    /// <exception cref="ArgumentException">As <see cref="Validate"/>.</exception>
    public Chain NoisyAverage(int datasetSize)
    {
        Validate(datasetSize);
        return PrivacyTransforms.NoisyAverage(ClippingGroups.Flat(ClipNorm), NoiseMultiplier, SamplingRate, datasetSize, Randomness, Seed);
    }

    /// <summary>These options with the smallest noise multiplier (within 0.01 of epsilon) that keeps <paramref name="steps"/> steps within <paramref name="targetEpsilon"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="NoiseCalibration.NoiseMultiplier"/>, or delta is not below 1/N.</exception>
    public DifferentialPrivacyOptions CalibratedFor(double targetEpsilon, long steps, long datasetSize) =>
        this with
        {
            NoiseMultiplier = NoiseCalibration.NoiseMultiplier(
                targetEpsilon, Delta, SamplingRate, steps, conversion: Conversion, datasetSize: datasetSize),
        };

    /// <summary>The guarantee of <paramref name="steps"/> steps with these settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">steps is negative, or delta is not below 1/N.</exception>
    public PrivacySpent Guarantee(long steps, long datasetSize)
    {
        PrivacyGuard.Delta(Delta, nameof(Delta), datasetSize);
        return RdpAccountant.Compute(NoiseMultiplier, SamplingRate, steps, Delta, Conversion);
    }
}
