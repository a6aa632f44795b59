using System.Numerics.Tensors;
using Pipelines.Components.Compute;

namespace Pipelines.Components.Privacy;

/// <summary>Reproducible Gaussian noise from a <see cref="SeededRandom"/> (SplitMix64 with Box-Muller). Not cryptographically secure.</summary>
/// <remarks>
/// <see cref="ForStep"/> gives step s of a seeded run its own independent stream, so a resumed run adds the same
/// noise as an uninterrupted one without any state in the checkpoint. The streams are kept apart from
/// <see cref="PoissonSampler"/>'s, so one seed may serve both.
/// </remarks>
public sealed class SeededGaussianSource : IGaussianSource
{
    private const ulong StreamDomain = 0x4E4F_4953_4547_4155UL;

    /// <summary>A source seeded with <paramref name="seed"/>.</summary>
    public SeededGaussianSource(ulong seed) : this(new SeededRandom(seed))
    {
    }

    /// <summary>A source drawing from <paramref name="random"/> (shared, not copied).</summary>
    public SeededGaussianSource(SeededRandom random) => Random = random ?? throw new ArgumentNullException(nameof(random));

    /// <summary>The generator; its <see cref="SeededRandom.State"/> is the source's whole state.</summary>
    public SeededRandom Random { get; }

    /// <summary>The source for step <paramref name="step"/> of a run seeded with <paramref name="seed"/>.</summary>
    public static SeededGaussianSource ForStep(ulong seed, long step) => new(SeededRandom.ForStream(seed ^ StreamDomain, unchecked((ulong)step)));

    /// <inheritdoc />
    public double NextStandardNormal() => Random.NextGaussian();

    /// <summary>Adds <c>N(0, standardDeviation^2)</c> to each value, by vectorised Box-Muller using both outputs of each pair of uniforms.</summary>
    /// <remarks>
    /// Uniforms u, v (in the generator's order) give <c>r = sqrt(-2 log(1 - u))</c> and the two independent standard
    /// normals <c>r cos(2 pi v)</c>, <c>r sin(2 pi v)</c> for values 2k and 2k+1; so n values use 2 ceil(n/2) uniforms
    /// (<see cref="NextStandardNormal"/> uses two per value and keeps only the cosine). Log, sqrt, sin and cos run on
    /// spans in double. Noise covers every trainable parameter each DP step, so this is several times faster than
    /// one call per value; the sequence is reproducible from the seed like any other of this source.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">standardDeviation is negative or not finite.</exception>
    public void AddNoise(Span<float> values, double standardDeviation)
    {
        if (!(double.IsFinite(standardDeviation) && standardDeviation >= 0))
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation, "standardDeviation must be finite and non-negative.");
        const int PairsPerChunk = 256;
        Span<double> radius = stackalloc double[PairsPerChunk];
        Span<double> angle = stackalloc double[PairsPerChunk];
        Span<double> sine = stackalloc double[PairsPerChunk];
        for (var start = 0; start < values.Length; start += 2 * PairsPerChunk)
        {
            var pairs = Math.Min(PairsPerChunk, (values.Length - start + 1) / 2);
            var radii = radius[..pairs];
            var angles = angle[..pairs];
            var sines = sine[..pairs];
            for (var pair = 0; pair < pairs; pair++)
            {
                radii[pair] = 1.0 - Random.NextDouble();
                angles[pair] = 2.0 * Math.PI * Random.NextDouble();
            }

            TensorPrimitives.Log(radii, radii);
            TensorPrimitives.Multiply(radii, -2.0 * standardDeviation * standardDeviation, radii);
            TensorPrimitives.Sqrt(radii, radii); // standardDeviation * r
            TensorPrimitives.Sin(angles, sines); // Sin and Cos are vectorised for double; SinCos is not
            TensorPrimitives.Cos(angles, angles);
            var destination = values[start..Math.Min(values.Length, start + 2 * pairs)];
            for (var pair = 0; pair < pairs; pair++)
            {
                destination[2 * pair] += (float)(radii[pair] * angles[pair]);
                if (2 * pair + 1 < destination.Length) destination[2 * pair + 1] += (float)(radii[pair] * sines[pair]);
            }
        }
    }
}
