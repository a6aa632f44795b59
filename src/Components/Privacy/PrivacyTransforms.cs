using Pipelines.Components.Optimization;

namespace Pipelines.Components.Privacy;

/// <summary>DP-SGD's aggregation as a chain: noise, then division by the expected batch size; put an optimizer after it.</summary>
/// <remarks>
/// <c>NoisyAverage = Chain(AddGaussianNoise(sigma, groups), DivideByExpectedBatchSize(q, N))</c>, applied to the
/// gradient buffer holding <see cref="ClippedGradientSum"/>'s sum. A DP optimizer is
/// <c>Chain(NoisyAverage(...), ScaleByAdam(...), ScaleByLearningRate(...))</c> (Abadi et al. 2016, arXiv 1607.00133).
/// </remarks>
public static class PrivacyTransforms
{
    /// <summary><c>g~ = (sum_i c_i g_i + N(0, (sigma C_g)^2)) / (q N)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">sigma &lt; 0, q outside (0, 1] or N &lt; 1.</exception>
    /// <exception cref="ArgumentException">A seed with secure noise, or none with seeded noise.</exception>
    public static Chain NoisyAverage(
        ClippingGroups groups, double noiseMultiplier, double samplingRate, int datasetSize, NoiseRandomness randomness, ulong? seed = null) =>
        new(new AddGaussianNoise(noiseMultiplier, groups, randomness, seed), new DivideByExpectedBatchSize(samplingRate, datasetSize));
}
