namespace Pipelines.Components.Schedules;

/// <summary>How the gradient of the fit's objective is obtained.</summary>
public enum LossLawGradient
{
    /// <summary>The exact derivative of the Huber objective.</summary>
    Analytic,

    /// <summary>Central differences of the objective (a check on the analytic one, or for experiments).</summary>
    CentralDifference,
}

/// <summary>Options of <see cref="AnnealingLossLaw.Fit"/>: the Huber threshold, the box and the grid of starts.</summary>
/// <remarks>
/// Defaults from arXiv 2408.11029: Huber delta 1e-3 on log losses; starts L0 in {0.1, 2.1}, A and C in
/// linspace(1, 22, 3) = {1, 11.5, 22}, alpha in linspace(0, 0.8, 3) = {0, 0.4, 0.8}. The box
/// <b>(our choice)</b>: L0 in [0, 1000], A in [0, 1e4], alpha in [0, 3], C in [0, 1e4].
/// </remarks>
public sealed record LossLawFitOptions
{
    /// <summary>Creates fit options; null lists and bounds take the defaults.</summary>
    /// <param name="huberDelta">The Huber threshold on log-loss residuals, &gt; 0.</param>
    /// <param name="gradient">How the objective's gradient is obtained.</param>
    /// <param name="maximumIterations">The quasi-Newton iteration limit per start, &gt;= 1.</param>
    /// <param name="lowerBound">The box's lower corner; each component &gt;= 0.</param>
    /// <param name="upperBound">The box's upper corner; each component &gt;= the lower one.</param>
    /// <param name="l0Starts">Starting values of L0.</param>
    /// <param name="aStarts">Starting values of A.</param>
    /// <param name="alphaStarts">Starting values of alpha.</param>
    /// <param name="cStarts">Starting values of C.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range; the message names it and its value.</exception>
    /// <exception cref="ArgumentException">An empty list of starts.</exception>
    public LossLawFitOptions(double huberDelta = 1e-3, LossLawGradient gradient = LossLawGradient.Analytic,
        int maximumIterations = 1000, LossLawParameters? lowerBound = null, LossLawParameters? upperBound = null,
        IReadOnlyList<double>? l0Starts = null, IReadOnlyList<double>? aStarts = null,
        IReadOnlyList<double>? alphaStarts = null, IReadOnlyList<double>? cStarts = null)
    {
        if (!(huberDelta > 0) || !double.IsFinite(huberDelta))
            throw new ArgumentOutOfRangeException(nameof(huberDelta), huberDelta, $"huberDelta must be finite and > 0; got {huberDelta}.");
        HuberDelta = huberDelta;
        Gradient = ScheduleGuard.Defined(gradient, nameof(gradient));
        MaximumIterations = (int)ScheduleGuard.Positive(maximumIterations, nameof(maximumIterations));
        LowerBound = lowerBound ?? new LossLawParameters(0, 0, 0, 0);
        UpperBound = upperBound ?? new LossLawParameters(1000, 1e4, 3, 1e4);
        LowerBound.Validate(nameof(lowerBound));
        UpperBound.Validate(nameof(upperBound));
        var lower = LowerBound.ToArray();
        var upper = UpperBound.ToArray();
        for (var index = 0; index < 4; index++)
        {
            if (lower[index] < 0)
                throw new ArgumentOutOfRangeException(nameof(lowerBound), lower[index], $"lowerBound.{Names[index]} must be >= 0 (the law's parameters are non-negative); got {lower[index]}.");
            if (upper[index] < lower[index])
                throw new ArgumentOutOfRangeException(nameof(upperBound), upper[index], $"upperBound.{Names[index]} ({upper[index]}) is below lowerBound.{Names[index]} ({lower[index]}).");
        }

        L0Starts = Starts(l0Starts ?? [0.1, 2.1], nameof(l0Starts), lower[0], upper[0]);
        AStarts = Starts(aStarts ?? [1, 11.5, 22], nameof(aStarts), lower[1], upper[1]);
        AlphaStarts = Starts(alphaStarts ?? [0, 0.4, 0.8], nameof(alphaStarts), lower[2], upper[2]);
        CStarts = Starts(cStarts ?? [1, 11.5, 22], nameof(cStarts), lower[3], upper[3]);
    }

    internal static readonly string[] Names = ["L0", "A", "Alpha", "C"];

    /// <summary>The paper's settings.</summary>
    public static LossLawFitOptions Default { get; } = new();

    /// <summary>The Huber threshold on log-loss residuals.</summary>
    public double HuberDelta { get; }

    /// <summary>How the objective's gradient is obtained.</summary>
    public LossLawGradient Gradient { get; }

    /// <summary>The quasi-Newton iteration limit per start.</summary>
    public int MaximumIterations { get; }

    /// <summary>The box's lower corner.</summary>
    public LossLawParameters LowerBound { get; }

    /// <summary>The box's upper corner.</summary>
    public LossLawParameters UpperBound { get; }

    /// <summary>Starting values of L0.</summary>
    public IReadOnlyList<double> L0Starts { get; }

    /// <summary>Starting values of A.</summary>
    public IReadOnlyList<double> AStarts { get; }

    /// <summary>Starting values of alpha.</summary>
    public IReadOnlyList<double> AlphaStarts { get; }

    /// <summary>Starting values of C.</summary>
    public IReadOnlyList<double> CStarts { get; }

    private static double[] Starts(IReadOnlyList<double> starts, string name, double lower, double upper)
    {
        if (starts.Count == 0) throw new ArgumentException($"{name} needs at least one starting value.", name);
        foreach (var start in starts)
            if (!(start >= lower && start <= upper))
                throw new ArgumentOutOfRangeException(name, start, $"{name} holds {start}, outside the box [{lower}, {upper}].");
        return [.. starts];
    }
}
