namespace Pipelines.Components.Sparsity;

/// <summary>Which parameter count a scaling law is fitted in.</summary>
public enum ScalingParameterCount
{
    /// <summary>The parameter count at the end of training (a dense model's size): plain Chinchilla.</summary>
    Final,
    /// <summary>The average non-zero count over training, Nbar (arXiv 2501.12486).</summary>
    Average,
}

/// <summary>One training run: its size, its tokens and the loss it reached.</summary>
/// <param name="FinalParameterCount">N: unpruned parameters at the end of training (the size, for a dense run).</param>
/// <param name="AverageParameterCount">Nbar: the mean non-zero count over training (equal to N for a dense run).</param>
/// <param name="Tokens">D: training tokens.</param>
/// <param name="FinalLoss">The final (validation) loss, in nats.</param>
public sealed record ScalingRun(double FinalParameterCount, double AverageParameterCount, double Tokens, double FinalLoss)
{
    /// <summary>A dense run: N = Nbar.</summary>
    public static ScalingRun Dense(double parameterCount, double tokens, double finalLoss) => new(parameterCount, parameterCount, tokens, finalLoss);

    /// <summary>N or Nbar, as <paramref name="count"/> says.</summary>
    public double ParameterCount(ScalingParameterCount count) => count == ScalingParameterCount.Average ? AverageParameterCount : FinalParameterCount;
}

/// <summary>The parameters of <c>L(N, D) = E + A / N^Alpha + B / D^Beta</c>.</summary>
/// <param name="E">The irreducible loss.</param>
/// <param name="A">The parameter term's coefficient.</param>
/// <param name="Alpha">The parameter term's exponent.</param>
/// <param name="B">The data term's coefficient.</param>
/// <param name="Beta">The data term's exponent.</param>
public sealed record ScalingLawParameters(double E, double A, double Alpha, double B, double Beta)
{
    /// <summary>The predicted loss for <paramref name="parameterCount"/> (N or Nbar) and <paramref name="tokens"/> (D).</summary>
    public double Predict(double parameterCount, double tokens) => E + A / Math.Pow(parameterCount, Alpha) + B / Math.Pow(tokens, Beta);
}

/// <summary>A fitted scaling law and how well it fits its runs.</summary>
/// <param name="Parameters">The fitted law.</param>
/// <param name="Count">Which parameter count it was fitted in.</param>
/// <param name="Objective">The minimised sum of Huber losses of log residuals.</param>
/// <param name="RootMeanSquareLogError">sqrt(mean (log L_pred - log L)^2) over the fitted runs.</param>
/// <param name="MeanAbsoluteRelativeError">mean |L_pred - L| / L over the fitted runs.</param>
/// <param name="ConvergedStarts">How many of the starting points the optimizer finished from.</param>
public sealed record ScalingLawFit(ScalingLawParameters Parameters, ScalingParameterCount Count, double Objective,
    double RootMeanSquareLogError, double MeanAbsoluteRelativeError, int ConvergedStarts)
{
    /// <summary>The predicted loss of <paramref name="run"/> (its N or Nbar as fitted, and its D).</summary>
    public double Predict(ScalingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return Parameters.Predict(run.ParameterCount(Count), run.Tokens);
    }
}

/// <summary>A law fitted on some runs and judged on others.</summary>
/// <param name="Fit">The law fitted on the training runs.</param>
/// <param name="Predictions">Its predicted losses for the held-out runs, in order.</param>
/// <param name="MeanAbsoluteRelativeError">mean |L_pred - L| / L over the held-out runs.</param>
public sealed record HeldOutEvaluation(ScalingLawFit Fit, IReadOnlyList<double> Predictions, double MeanAbsoluteRelativeError);

/// <summary>How <see cref="SparseScalingLaw.Fit"/> searches.</summary>
/// <remarks>
/// Hoffmann et al. (arXiv 2203.15556) minimise a Huber loss (delta 1e-3) of log residuals with L-BFGS from a grid
/// of starts: alpha, beta in {0, 0.5, ..., 2}, e in {-1, -0.5, ..., 1}, a, b in {0, 5, ..., 25} (4,500 starts).
/// The default grid here is coarser (3 x 3 x 3 x 2 x 2 = 108 starts, about 10 ms each) and recovers known laws
/// from synthetic runs; pass theirs for a closer replication.
/// </remarks>
public sealed record ScalingLawFitOptions
{
    /// <summary>delta of the Huber loss on log residuals (positive). Large values give least squares.</summary>
    public double HuberDelta { get; init; } = 1e-3;

    /// <summary>Starting values of e = log E.</summary>
    public IReadOnlyList<double> LogIrreducibleLossStarts { get; init; } = [-1.0, 0.0, 1.0];

    /// <summary>Starting values of a = log A and b = log B.</summary>
    public IReadOnlyList<double> LogCoefficientStarts { get; init; } = [0.0, 5.0, 10.0];

    /// <summary>Starting values of alpha and beta (within [0, 3], the bounds of the search).</summary>
    public IReadOnlyList<double> ExponentStarts { get; init; } = [0.25, 0.75];

    /// <summary>Iterations allowed per start (at least 1).</summary>
    public int MaximumIterations { get; init; } = 1000;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (!(HuberDelta > 0 && double.IsFinite(HuberDelta))) throw new ArgumentOutOfRangeException(nameof(HuberDelta), HuberDelta, "Must be positive and finite.");
        RequireStarts(LogIrreducibleLossStarts, nameof(LogIrreducibleLossStarts), SparseScalingLaw.LogLowerBound, SparseScalingLaw.LogUpperBound);
        RequireStarts(LogCoefficientStarts, nameof(LogCoefficientStarts), SparseScalingLaw.LogLowerBound, SparseScalingLaw.LogUpperBound);
        RequireStarts(ExponentStarts, nameof(ExponentStarts), 0, SparseScalingLaw.ExponentUpperBound);
        if (MaximumIterations < 1) throw new ArgumentOutOfRangeException(nameof(MaximumIterations), MaximumIterations, "Must be at least 1.");
    }

    private static void RequireStarts(IReadOnlyList<double>? starts, string name, double lower, double upper)
    {
        if (starts is null || starts.Count == 0) throw new ArgumentOutOfRangeException(name, starts?.Count ?? 0, "Needs at least one starting value.");
        foreach (var start in starts)
        {
            if (!(start >= lower && start <= upper)) throw new ArgumentOutOfRangeException(name, start, $"Starting values must lie in [{lower}, {upper}].");
        }
    }
}
