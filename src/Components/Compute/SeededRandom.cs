namespace Pipelines.Components.Compute;

/// <summary>
/// A small, fast, seedable random source (SplitMix64) whose whole state is one <see cref="ulong"/>, so it can
/// be stored in a checkpoint and restored exactly. Not for cryptography.
/// </summary>
/// <remarks>
/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014).
/// <see cref="ForStream"/> derives independent streams from a seed and an index (e.g. the training step),
/// which lets a training run draw step <c>s</c>'s batch without replaying steps 0..s-1.
/// </remarks>
public sealed class SeededRandom
{
    /// <summary>Creates a source from a seed.</summary>
    public SeededRandom(ulong seed) => State = seed;

    /// <summary>The complete state; assign a saved value to resume the sequence exactly.</summary>
    public ulong State { get; set; }

    /// <summary>A source for stream <paramref name="index"/> of <paramref name="seed"/>, independent of the others.</summary>
    public static SeededRandom ForStream(ulong seed, ulong index)
    {
        var mixer = new SeededRandom(seed ^ 0x9E3779B97F4A7C15UL);
        var first = mixer.NextUInt64();
        return new SeededRandom(first + Mix(index + 0xD1B54A32D192ED03UL));
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        State += 0x9E3779B97F4A7C15UL;
        return Mix(State);
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform integer in [0, <paramref name="exclusiveMaximum"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="exclusiveMaximum"/> is below 1.</exception>
    public int NextInt32(int exclusiveMaximum)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(exclusiveMaximum, 1);
        // Multiply-shift (Lemire) without the rejection step: the bias is below 2^-32 for int ranges.
        return (int)((NextUInt64() >> 32) * (ulong)exclusiveMaximum >> 32);
    }

    /// <summary>A standard normal sample (Box-Muller; one value per two uniforms, so <see cref="State"/> alone resumes the sequence).</summary>
    public double NextGaussian()
    {
        var radius = Math.Sqrt(-2.0 * Math.Log(1.0 - NextDouble()));
        return radius * Math.Cos(2.0 * Math.PI * NextDouble());
    }

    /// <summary>Fills <paramref name="destination"/> with normal(mean, standardDeviation) samples.</summary>
    public void FillGaussian(Span<float> destination, double mean, double standardDeviation)
    {
        for (var index = 0; index < destination.Length; index++) destination[index] = (float)(mean + standardDeviation * NextGaussian());
    }

    private static ulong Mix(ulong value)
    {
        value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9UL;
        value = (value ^ (value >> 27)) * 0x94D049BB133111EBUL;
        return value ^ (value >> 31);
    }
}
