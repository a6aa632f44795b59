using Pipelines.Components.Tensors;

namespace Pipelines.Components.Privacy;

/// <summary>How per-example gradients are clipped: one norm over all trainable parameters, or one per group of parameters.</summary>
/// <remarks>
/// <para>Flat: <c>c_i = min(1, C / (||g_i|| + 1e-6))</c> with the norm over every trainable parameter (Abadi et al. 2016, arXiv 1607.00133).</para>
/// <para>
/// Per group: group g is clipped on its own, <c>c_ig = min(1, C_g / (||g_ig|| + 1e-6))</c>, and gets noise
/// <c>N(0, (sigma_g C_g)^2)</c>. Scaling group g by <c>1 / (sigma_g C_g)</c> turns the step into a Gaussian mechanism with
/// unit noise and sensitivity <c>sqrt(sum_g sigma_g^-2)</c>, so the accountant must be given
/// <c>sigma_eff = (sum_g sigma_g^-2)^(-1/2)</c> (<see cref="EffectiveNoiseMultiplier(IReadOnlyList{double})"/>);
/// with one sigma for G groups that is <c>sigma / sqrt(G)</c>. <b>(our choice, as the project's RLDP spec.)</b>
/// </para>
/// </remarks>
public sealed class ClippingGroups
{
    private readonly double[] clipNorms;
    private readonly Func<ParameterSlice, int> groupOf;

    private ClippingGroups(double[] clipNorms, Func<ParameterSlice, int> groupOf)
    {
        this.clipNorms = clipNorms;
        this.groupOf = groupOf;
    }

    /// <summary>One group holding every parameter, clipped at <paramref name="clipNorm"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">clipNorm is not finite and positive.</exception>
    public static ClippingGroups Flat(double clipNorm) => new([PrivacyGuard.ClipNorm(clipNorm, nameof(clipNorm))], _ => 0);

    /// <summary>Groups numbered 0..G-1, group g clipped at <paramref name="clipNorms"/>[g]; <paramref name="groupOf"/> names each parameter's group.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A clip norm is not finite and positive (named <c>clipNorms[g]</c>).</exception>
    /// <exception cref="ArgumentException">No groups.</exception>
    public static ClippingGroups PerGroup(IReadOnlyList<double> clipNorms, Func<ParameterSlice, int> groupOf)
    {
        ArgumentNullException.ThrowIfNull(clipNorms);
        ArgumentNullException.ThrowIfNull(groupOf);
        if (clipNorms.Count == 0) throw new ArgumentException("At least one group is needed.", nameof(clipNorms));
        var norms = new double[clipNorms.Count];
        for (var group = 0; group < norms.Length; group++) norms[group] = PrivacyGuard.ClipNorm(clipNorms[group], $"clipNorms[{group}]");
        return new ClippingGroups(norms, groupOf);
    }

    /// <summary>G, the number of groups.</summary>
    public int Count => clipNorms.Length;

    /// <summary>C_g for each group.</summary>
    public IReadOnlyList<double> ClipNorms => clipNorms;

    /// <summary>The group of <paramref name="slice"/>.</summary>
    /// <exception cref="InvalidOperationException">The selector gave a number outside 0..G-1.</exception>
    public int GroupOf(ParameterSlice slice)
    {
        var group = groupOf(slice);
        if ((uint)group >= (uint)clipNorms.Length)
            throw new InvalidOperationException($"Parameter '{slice.Name}' was put in group {group}, but the groups are 0..{clipNorms.Length - 1}.");
        return group;
    }

    /// <summary>The noise multiplier the accountant sees when every group has noise multiplier sigma: <c>sigma / sqrt(G)</c>.</summary>
    public double EffectiveNoiseMultiplier(double noiseMultiplier) =>
        PrivacyGuard.NoiseMultiplier(noiseMultiplier, nameof(noiseMultiplier)) / Math.Sqrt(Count);

    /// <summary><c>sigma_eff = (sum_g sigma_g^-2)^(-1/2)</c>: the single noise multiplier equivalent to per-group ones.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A multiplier is negative or not finite.</exception>
    public static double EffectiveNoiseMultiplier(IReadOnlyList<double> groupNoiseMultipliers)
    {
        ArgumentNullException.ThrowIfNull(groupNoiseMultipliers);
        if (groupNoiseMultipliers.Count == 0) throw new ArgumentException("At least one group is needed.", nameof(groupNoiseMultipliers));
        double inverseSquares = 0;
        for (var group = 0; group < groupNoiseMultipliers.Count; group++)
        {
            var sigma = PrivacyGuard.NoiseMultiplier(groupNoiseMultipliers[group], $"groupNoiseMultipliers[{group}]");
            if (sigma == 0) return 0;
            inverseSquares += 1 / (sigma * sigma);
        }

        return 1 / Math.Sqrt(inverseSquares);
    }
}
