using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Privacy;

/// <summary>Adds DP-SGD's noise to the sum of clipped gradients: <c>G = sum_i c_i g_i + N(0, (sigma C)^2 I)</c>.</summary>
/// <remarks>
/// <para>
/// Abadi et al. 2016 (arXiv 1607.00133). With <see cref="ClippingGroups"/>, the slices of group g get
/// <c>N(0, (sigma_g C_g)^2)</c>; give the accountant <see cref="ClippingGroups.EffectiveNoiseMultiplier(IReadOnlyList{double})"/>.
/// Only the slices of the update context are touched, so frozen parameters (outside a <c>Masked</c>) get none.
/// </para>
/// <para>
/// Seeded noise draws step s from its own stream (<see cref="SeededGaussianSource.ForStep"/>): a resumed run adds
/// the same noise with nothing in the checkpoint but the kind. Secure noise comes from the operating system.
/// </para>
/// </remarks>
public sealed class AddGaussianNoise : IGradientTransform
{
    private readonly double[] noiseMultipliers;
    private readonly ulong seed;

    /// <summary>Noise sigma C_g on every group.</summary>
    /// <param name="noiseMultiplier">sigma, finite and at least 0.</param>
    /// <param name="groups">The clipping groups (their norms C_g scale the noise).</param>
    /// <param name="randomness">Seeded (reproducible) or secure.</param>
    /// <param name="seed">Required for seeded noise; refused for secure noise.</param>
    /// <exception cref="ArgumentOutOfRangeException">sigma is negative or not finite.</exception>
    /// <exception cref="ArgumentException">A seed with secure noise, or none with seeded noise.</exception>
    public AddGaussianNoise(double noiseMultiplier, ClippingGroups groups, NoiseRandomness randomness, ulong? seed = null)
        : this(Enumerable.Repeat(PrivacyGuard.NoiseMultiplier(noiseMultiplier, nameof(noiseMultiplier)), (groups ?? throw new ArgumentNullException(nameof(groups))).Count).ToArray(), groups, randomness, seed)
    {
    }

    /// <summary>Noise sigma_g C_g on group g.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A sigma_g is negative or not finite (named <c>noiseMultipliers[g]</c>).</exception>
    /// <exception cref="ArgumentException">The count differs from the groups', or the seed does not fit the randomness.</exception>
    public AddGaussianNoise(IReadOnlyList<double> noiseMultipliers, ClippingGroups groups, NoiseRandomness randomness, ulong? seed = null)
    {
        ArgumentNullException.ThrowIfNull(noiseMultipliers);
        Groups = groups ?? throw new ArgumentNullException(nameof(groups));
        if (noiseMultipliers.Count != groups.Count)
            throw new ArgumentException($"{noiseMultipliers.Count} noise multipliers for {groups.Count} groups.", nameof(noiseMultipliers));
        this.noiseMultipliers = new double[groups.Count];
        for (var group = 0; group < groups.Count; group++)
            this.noiseMultipliers[group] = PrivacyGuard.NoiseMultiplier(noiseMultipliers[group], $"noiseMultipliers[{group}]");

        Randomness = randomness;
        switch (randomness)
        {
            case NoiseRandomness.Seeded:
                this.seed = seed ?? throw new ArgumentException("Seeded noise needs a seed.", nameof(seed));
                break;
            case NoiseRandomness.Secure:
                if (seed is { } given) throw GaussianSources.SecureSeedRefused(given);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(randomness), randomness, "Unknown noise randomness.");
        }
    }

    /// <summary>The clipping groups.</summary>
    public ClippingGroups Groups { get; }

    /// <summary>sigma_g for each group.</summary>
    public IReadOnlyList<double> NoiseMultipliers => noiseMultipliers;

    /// <summary>Seeded or secure.</summary>
    public NoiseRandomness Randomness { get; }

    /// <summary>The single noise multiplier to give the accountant: <c>(sum_g sigma_g^-2)^(-1/2)</c>.</summary>
    public double EffectiveNoiseMultiplier => ClippingGroups.EffectiveNoiseMultiplier(noiseMultipliers);

    /// <inheritdoc />
    public TransformState Init(ParameterArena arena) =>
        new AddGaussianNoiseState(Randomness, Randomness == NoiseRandomness.Secure ? new SecureGaussianSource() : null);

    /// <inheritdoc />
    public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        var noiseState = TransformGuard.StateAs<AddGaussianNoiseState>(state, nameof(AddGaussianNoise));
        TransformGuard.CheckBuffers(updates, parameters, context);
        IGaussianSource source = noiseState.SecureSource ?? (IGaussianSource)SeededGaussianSource.ForStep(seed, context.Step);
        foreach (var slice in context.Parameters)
        {
            var group = Groups.GroupOf(slice);
            source.AddNoise(updates[slice.Range], noiseMultipliers[group] * Groups.ClipNorms[group]);
        }
    }
}

/// <summary>The state of <see cref="AddGaussianNoise"/>: which randomness it uses (seeded noise needs nothing else to resume).</summary>
public sealed class AddGaussianNoiseState : TransformState
{
    internal AddGaussianNoiseState(NoiseRandomness randomness, SecureGaussianSource? secureSource)
    {
        Randomness = randomness;
        SecureSource = secureSource;
    }

    /// <inheritdoc />
    public override string Kind => nameof(AddGaussianNoise);

    /// <summary>Seeded or secure.</summary>
    public NoiseRandomness Randomness { get; }

    internal SecureGaussianSource? SecureSource { get; }

    /// <inheritdoc />
    public override void Write(BinaryWriter writer)
    {
        WriteKind(writer);
        writer.Write((int)Randomness);
    }

    /// <inheritdoc />
    public override void Read(BinaryReader reader)
    {
        ReadKind(reader);
        var stored = (NoiseRandomness)reader.ReadInt32();
        if (stored != Randomness)
            throw new InvalidDataException($"'{Kind}' was saved with {stored} noise but this optimizer uses {Randomness} noise.");
    }
}
