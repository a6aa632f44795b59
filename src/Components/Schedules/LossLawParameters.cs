namespace Pipelines.Components.Schedules;

/// <summary>The parameters of the loss law with learning-rate annealing, <c>L = L0 + A S1^(-alpha) - C S2</c>.</summary>
/// <remarks>arXiv 2408.11029 (Tissue et al.). The symbols are the paper's.</remarks>
/// <param name="L0">The irreducible loss.</param>
/// <param name="A">The scale of the power-law term in the forward area <c>S1</c>.</param>
/// <param name="Alpha">The power-law exponent.</param>
/// <param name="C">The gain per unit of annealing area <c>S2</c>.</param>
public sealed record LossLawParameters(double L0, double A, double Alpha, double C)
{
    /// <summary>The predicted loss <c>L0 + A S1^(-alpha) - C S2</c> for areas <paramref name="s1"/> &gt; 0 and <paramref name="s2"/>.</summary>
    public double LossAt(double s1, double s2) => L0 + A * Math.Pow(s1, -Alpha) - C * s2;

    internal double[] ToArray() => [L0, A, Alpha, C];

    internal static LossLawParameters FromArray(IReadOnlyList<double> values) => new(values[0], values[1], values[2], values[3]);

    internal void Validate(string name)
    {
        foreach (var (value, what) in new[] { (L0, nameof(L0)), (A, nameof(A)), (Alpha, nameof(Alpha)), (C, nameof(C)) })
            if (!double.IsFinite(value))
                throw new ArgumentOutOfRangeException(name, value, $"{name}.{what} must be finite; got {value}.");
    }
}
