using System.Numerics.Tensors;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Privacy;

/// <summary>Accumulates <c>sum_i c_i g_i</c>: each example's gradient clipped to its group's norm, then added.</summary>
/// <remarks>
/// <c>c_i = min(1, C / (||g_i|| + 1e-6))</c> per group (see <see cref="ClippingGroups"/>; Abadi et al. 2016,
/// arXiv 1607.00133, as Opacus). Gradients are laid out like the arena's; only the trainable slices given at
/// construction are read and summed. Norms are summed per slice in float and across slices in double. After the
/// batch, <see cref="CopyTo"/> puts the sum in the arena's gradients for the DP chain
/// (<see cref="PrivacyTransforms.NoisyAverage(ClippingGroups, double, double, int, NoiseRandomness, ulong?)"/>).
/// </remarks>
public sealed class ClippedGradientSum
{
    /// <summary>The 1e-6 added to the norm so a zero gradient divides safely (Opacus's constant).</summary>
    public const double NormStabilizer = 1e-6;

    private readonly float[] sum;
    private readonly ParameterSlice[] slices;
    private readonly int[] groupOfSlice;
    private readonly double[] groupSquares;

    /// <summary>An empty sum over <paramref name="trainable"/> (all of the arena's parameters when null).</summary>
    public ClippedGradientSum(ParameterArena arena, ClippingGroups groups, IReadOnlyList<ParameterSlice>? trainable = null)
    {
        ArgumentNullException.ThrowIfNull(arena);
        Groups = groups ?? throw new ArgumentNullException(nameof(groups));
        sum = new float[arena.BufferLength];
        slices = [.. trainable ?? arena.Parameters];
        groupOfSlice = slices.Select(groups.GroupOf).ToArray();
        groupSquares = new double[groups.Count];
    }

    /// <summary>The clipping groups.</summary>
    public ClippingGroups Groups { get; }

    /// <summary>The sum so far, laid out like the arena (zero outside the trainable slices).</summary>
    public ReadOnlySpan<float> Sum => sum;

    /// <summary>Examples added since the last <see cref="Clear"/>.</summary>
    public int ExampleCount { get; private set; }

    /// <summary>Examples with at least one group scaled down.</summary>
    public int ClippedCount { get; private set; }

    /// <summary>The clipping factor <c>min(1, C / (norm + 1e-6))</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">C is not finite and positive.</exception>
    public static double ClipFactor(double norm, double clipNorm) =>
        Math.Min(1, PrivacyGuard.ClipNorm(clipNorm, nameof(clipNorm)) / (norm + NormStabilizer));

    /// <summary>Clips one example's gradient per group and adds it to the sum.</summary>
    /// <param name="exampleGradient">The example's gradient, laid out like the arena.</param>
    /// <param name="groupNorms">Receives each group's pre-clip norm (length G), or empty.</param>
    /// <exception cref="ArgumentException">A length does not match.</exception>
    public void Add(ReadOnlySpan<float> exampleGradient, Span<double> groupNorms = default)
    {
        if (exampleGradient.Length != sum.Length)
            throw new ArgumentException($"The example gradient has {exampleGradient.Length} floats but the arena has {sum.Length}.", nameof(exampleGradient));
        if (!groupNorms.IsEmpty && groupNorms.Length != groupSquares.Length)
            throw new ArgumentException($"groupNorms has room for {groupNorms.Length} norms but there are {groupSquares.Length} groups.", nameof(groupNorms));

        Array.Clear(groupSquares);
        for (var index = 0; index < slices.Length; index++)
            groupSquares[groupOfSlice[index]] += TensorPrimitives.SumOfSquares(exampleGradient[slices[index].Range]);

        var clipped = false;
        for (var group = 0; group < groupSquares.Length; group++)
        {
            var norm = Math.Sqrt(groupSquares[group]);
            if (!groupNorms.IsEmpty) groupNorms[group] = norm;
            var factor = ClipFactor(norm, Groups.ClipNorms[group]);
            clipped |= factor < 1;
            groupSquares[group] = factor; // reused: now the group's factor
        }

        for (var index = 0; index < slices.Length; index++)
        {
            var range = slices[index].Range;
            TensorPrimitives.MultiplyAdd(exampleGradient[range], (float)groupSquares[groupOfSlice[index]], (ReadOnlySpan<float>)sum.AsSpan(range), sum.AsSpan(range));
        }

        ExampleCount++;
        if (clipped) ClippedCount++;
    }

    /// <summary>Copies the sum into <paramref name="gradients"/> (the arena's gradient buffer), overwriting it.</summary>
    /// <exception cref="ArgumentException">The length differs from the arena's.</exception>
    public void CopyTo(Span<float> gradients)
    {
        if (gradients.Length != sum.Length)
            throw new ArgumentException($"The destination has {gradients.Length} floats but the arena has {sum.Length}.", nameof(gradients));
        sum.CopyTo(gradients);
    }

    /// <summary>Empties the sum for the next batch.</summary>
    public void Clear()
    {
        Array.Clear(sum);
        ExampleCount = 0;
        ClippedCount = 0;
    }
}
