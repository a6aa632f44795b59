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
}
