namespace Pipelines.Components.Privacy;

/// <summary>Where DP-SGD's Gaussian noise comes from.</summary>
public enum NoiseRandomness
{
    /// <summary>A seeded generator (<see cref="SeededGaussianSource"/>): reproducible, for experiments and tests. Not private against an adversary who can guess the seed.</summary>
    Seeded,

    /// <summary>The operating system's cryptographically secure generator (<see cref="SecureGaussianSource"/>): for releases. Takes no seed.</summary>
    Secure,
}

/// <summary>A source of standard normal samples for privacy noise.</summary>
/// <remarks>
/// Both implementations use the Box-Muller transform on 53-bit uniforms in double precision and round the scaled
/// sample to float. Like Opacus's default, they do not defend against floating-point attacks on the Gaussian
/// mechanism (Mironov 2012, "On significance of the least significant bits for differential privacy").
/// </remarks>
public interface IGaussianSource
{
    /// <summary>One N(0, 1) sample.</summary>
    double NextStandardNormal();

    /// <summary>Adds independent N(0, standardDeviation^2) samples to every element of <paramref name="values"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">standardDeviation is negative or not finite.</exception>
    void AddNoise(Span<float> values, double standardDeviation)
    {
        if (!(double.IsFinite(standardDeviation) && standardDeviation >= 0))
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation, "standardDeviation must be finite and non-negative.");
        for (var index = 0; index < values.Length; index++) values[index] += (float)(standardDeviation * NextStandardNormal());
    }
}

/// <summary>Makes <see cref="IGaussianSource"/>s from a <see cref="NoiseRandomness"/> choice.</summary>
public static class GaussianSources
{
    /// <summary>A seeded source for <see cref="NoiseRandomness.Seeded"/> (the seed is required) or a secure one for <see cref="NoiseRandomness.Secure"/> (a seed is refused).</summary>
    /// <exception cref="ArgumentException">A seed was given for the secure source, or none for the seeded one.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Unknown randomness.</exception>
    public static IGaussianSource Create(NoiseRandomness randomness, ulong? seed) => randomness switch
    {
        NoiseRandomness.Seeded => new SeededGaussianSource(seed ?? throw new ArgumentException("Seeded noise needs a seed.", nameof(seed))),
        NoiseRandomness.Secure => seed is null ? new SecureGaussianSource() : throw SecureSeedRefused(seed.Value),
        _ => throw new ArgumentOutOfRangeException(nameof(randomness), randomness, "Unknown noise randomness."),
    };

    internal static ArgumentException SecureSeedRefused(ulong seed) =>
        new($"Secure noise takes no seed (got {seed}): a seed would make the noise reproducible by anyone who learns it. Use NoiseRandomness.Seeded for reproducible runs.", "seed");
}
