using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;
using Pipelines.Components.Compute;

namespace Pipelines.Components.Sparsity;

/// <summary>
/// Fits the sparse scaling law <c>L(Nbar, D) = E + A / Nbar^alpha + B / D^beta</c> (or plain Chinchilla in N)
/// to a set of runs, predicts with it, and scores it on held-out runs.
/// </summary>
/// <remarks>
/// <para>Sparse pre-training (arXiv 2501.12486) replaces Chinchilla's N (Hoffmann et al., arXiv 2203.15556) by
/// the average non-zero parameter count Nbar; a sparse and a dense model of equal Nbar and D then reach about
/// the same loss.</para>
/// <para>Fitted as Hoffmann et al. do: in log space, <c>log L = LSE(a - alpha log N, b - beta log D, e)</c> with
/// A = exp(a), B = exp(b), E = exp(e), minimising <c>sum_i Huber_delta(log L_pred,i - log L_i)</c> with bounded
/// BFGS (MathNet's BFGS-B; a, b, e in [-20, 60], alpha, beta in [0, 3]) from every point of a grid of starts,
/// keeping the lowest objective (the first, on ties). Starts from which the optimizer fails are skipped.</para>
/// </remarks>
public static class SparseScalingLaw
{
    internal const double LogLowerBound = -20;
    internal const double LogUpperBound = 60;
    internal const double ExponentUpperBound = 3;

    // Parameter vector layout: [e, a, alpha, b, beta].
    private const int ParameterCount = 5;

    /// <summary>Fits the law to <paramref name="runs"/> in the parameter count <paramref name="count"/> (Nbar by default).</summary>
    /// <param name="runs">At least five runs (the law has five parameters).</param>
    /// <param name="count">Fit in Nbar (the sparse law) or in the final N (plain Chinchilla).</param>
    /// <param name="options">The search; null = defaults.</param>
    /// <param name="parallelism">Threads over the starting points; null = one. The result does not depend on it.</param>
    /// <exception cref="ArgumentException">Fewer than five runs, or a run with a non-positive or non-finite count, token number or loss.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid.</exception>
    /// <exception cref="InvalidOperationException">The optimizer failed from every start.</exception>
    public static ScalingLawFit Fit(IReadOnlyList<ScalingRun> runs, ScalingParameterCount count = ScalingParameterCount.Average, ScalingLawFitOptions? options = null,
        Parallelism? parallelism = null)
    {
        options ??= new ScalingLawFitOptions();
        options.Validate();
        if (!Enum.IsDefined(count)) throw new ArgumentOutOfRangeException(nameof(count), count, "Unknown parameter count.");
        ValidateRuns(runs, count, nameof(runs), ParameterCount);

        var logN = runs.Select(run => Math.Log(run.ParameterCount(count))).ToArray();
        var logD = runs.Select(run => Math.Log(run.Tokens)).ToArray();
        var logL = runs.Select(run => Math.Log(run.FinalLoss)).ToArray();
        var lower = Vector<double>.Build.DenseOfArray([LogLowerBound, LogLowerBound, 0, LogLowerBound, 0]);
        var upper = Vector<double>.Build.DenseOfArray([LogUpperBound, LogUpperBound, ExponentUpperBound, LogUpperBound, ExponentUpperBound]);
        var starts = (
            from e in options.LogIrreducibleLossStarts
            from a in options.LogCoefficientStarts
            from alpha in options.ExponentStarts
            from b in options.LogCoefficientStarts
            from beta in options.ExponentStarts
            select new[] { e, a, alpha, b, beta }).ToArray();

        // Each start is independent; results are kept per start and compared in start order, so the answer
        // does not depend on the thread count.
        var results = new (double Value, Vector<double>? Point)[starts.Length];
        (parallelism ?? Parallelism.Sequential).For(starts.Length, (first, end) =>
        {
            var minimizer = new BfgsBMinimizer(1e-8, 1e-10, 1e-12, options.MaximumIterations);
            for (var index = first; index < end; index++)
            {
                var objective = ObjectiveFunction.Gradient(point => Evaluate(point, logN, logD, logL, options.HuberDelta));
                try
                {
                    var result = minimizer.FindMinimum(objective, lower, upper, Vector<double>.Build.DenseOfArray(starts[index]));
                    results[index] = (result.FunctionInfoAtMinimum.Value, result.MinimizingPoint);
                }
                catch (Exception exception) when (exception is OptimizationException or ArithmeticException)
                {
                    results[index] = (double.NaN, null);
                }
            }
        });

        Vector<double>? best = null;
        var bestValue = double.PositiveInfinity;
        var converged = 0;
        foreach (var (value, point) in results)
        {
            if (point is null) continue;
            converged++;
            if (double.IsFinite(value) && value < bestValue) (bestValue, best) = (value, point);
        }

        if (best is null) throw new InvalidOperationException($"The optimizer failed from all {starts.Length} starting points.");
        var parameters = new ScalingLawParameters(Math.Exp(best[0]), Math.Exp(best[1]), best[2], Math.Exp(best[3]), best[4]);
        double squares = 0;
        for (var index = 0; index < runs.Count; index++)
        {
            var residual = LogPrediction(best, logN[index], logD[index]) - logL[index];
            squares += residual * residual;
        }

        var fit = new ScalingLawFit(parameters, count, bestValue, Math.Sqrt(squares / runs.Count), 0, converged);
        return fit with { MeanAbsoluteRelativeError = MeanAbsoluteRelativeError(fit, runs) };
    }

    /// <summary>Fits on <paramref name="training"/> and reports the mean absolute relative error of the predictions for <paramref name="heldOut"/>.</summary>
    /// <exception cref="ArgumentException">See <see cref="Fit"/>; also an empty or invalid <paramref name="heldOut"/>.</exception>
    public static HeldOutEvaluation EvaluateHeldOut(IReadOnlyList<ScalingRun> training, IReadOnlyList<ScalingRun> heldOut,
        ScalingParameterCount count = ScalingParameterCount.Average, ScalingLawFitOptions? options = null, Parallelism? parallelism = null)
    {
        ValidateRuns(heldOut, count, nameof(heldOut), 1);
        var fit = Fit(training, count, options, parallelism);
        var predictions = heldOut.Select(fit.Predict).ToArray();
        return new HeldOutEvaluation(fit, predictions, MeanAbsoluteRelativeError(fit, heldOut));
    }

    /// <summary>mean |L_pred - L| / L of <paramref name="fit"/> over <paramref name="runs"/>.</summary>
    public static double MeanAbsoluteRelativeError(ScalingLawFit fit, IReadOnlyList<ScalingRun> runs)
    {
        ArgumentNullException.ThrowIfNull(fit);
        ValidateRuns(runs, fit.Count, nameof(runs), 1);
        return runs.Average(run => Math.Abs(fit.Predict(run) - run.FinalLoss) / run.FinalLoss);
    }

    /// <summary>log of the predicted loss: a log-sum-exp of the three terms' logs, computed without overflow.</summary>
    private static double LogPrediction(Vector<double> point, double logN, double logD)
    {
        var (parameterTerm, dataTerm, irreducible) = (point[1] - point[2] * logN, point[3] - point[4] * logD, point[0]);
        var largest = Math.Max(irreducible, Math.Max(parameterTerm, dataTerm));
        return largest + Math.Log(Math.Exp(irreducible - largest) + Math.Exp(parameterTerm - largest) + Math.Exp(dataTerm - largest));
    }

    /// <summary>The Huber objective on log residuals and its gradient with respect to [e, a, alpha, b, beta].</summary>
    private static (double Value, Vector<double> Gradient) Evaluate(Vector<double> point, double[] logN, double[] logD, double[] logL, double delta)
    {
        double value = 0;
        var gradient = new double[ParameterCount];
        for (var index = 0; index < logL.Length; index++)
        {
            var (parameterTerm, dataTerm, irreducible) = (point[1] - point[2] * logN[index], point[3] - point[4] * logD[index], point[0]);
            var largest = Math.Max(irreducible, Math.Max(parameterTerm, dataTerm));
            var (weightE, weightN, weightD) = (Math.Exp(irreducible - largest), Math.Exp(parameterTerm - largest), Math.Exp(dataTerm - largest));
            var sum = weightE + weightN + weightD;
            var residual = largest + Math.Log(sum) - logL[index];
            var magnitude = Math.Abs(residual);
            value += magnitude <= delta ? 0.5 * residual * residual : delta * (magnitude - 0.5 * delta);
            var slope = magnitude <= delta ? residual : delta * Math.Sign(residual);
            // d log L_pred / d theta: softmax weights of the three terms times each term's derivative.
            gradient[0] += slope * weightE / sum;
            gradient[1] += slope * weightN / sum;
            gradient[2] -= slope * weightN / sum * logN[index];
            gradient[3] += slope * weightD / sum;
            gradient[4] -= slope * weightD / sum * logD[index];
        }

        return (value, Vector<double>.Build.DenseOfArray(gradient));
    }

    private static void ValidateRuns(IReadOnlyList<ScalingRun>? runs, ScalingParameterCount count, string name, int minimum)
    {
        if (runs is null) throw new ArgumentNullException(name);
        if (runs.Count < minimum) throw new ArgumentException($"Needs at least {minimum} runs; got {runs.Count}.", name);
        for (var index = 0; index < runs.Count; index++)
        {
            var run = runs[index] ?? throw new ArgumentException($"Run {index} is null.", name);
            var parameters = run.ParameterCount(count);
            if (!(parameters > 0 && double.IsFinite(parameters))) throw new ArgumentException($"Run {index} has parameter count ({count}) {parameters}; it must be positive and finite.", name);
            if (!(run.Tokens > 0 && double.IsFinite(run.Tokens))) throw new ArgumentException($"Run {index} has {run.Tokens} tokens; it must be positive and finite.", name);
            if (!(run.FinalLoss > 0 && double.IsFinite(run.FinalLoss))) throw new ArgumentException($"Run {index} has loss {run.FinalLoss}; it must be positive and finite.", name);
        }
    }
}
