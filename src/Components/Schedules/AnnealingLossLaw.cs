using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace Pipelines.Components.Schedules;

/// <summary>The loss-curve law with learning-rate annealing: predict a run's loss under any schedule, and fit the law.</summary>
/// <remarks>
/// arXiv 2408.11029 (Tissue et al.):
/// <code>
/// L(s) = L0 + A * S1(s)^(-alpha) - C * S2(s)
/// S1(s) = sum_{i&lt;=s} lr_i                          (forward area; warm-up steps counted at the peak)
/// m_0 = 0;  m_i = lambda m_(i-1) + (lr_(i-1) - lr_i);  S2(s) = sum_{i&lt;=s} m_i        (lambda = 0.999)
/// </code>
/// See <see cref="AnnealingAreas"/> for the indexing. The fit minimises <c>sum Huber_1e-3(log L_obs - log L_pred)</c>
/// over a box with MathNet's bounded BFGS from a grid of starts and keeps the best; fitting one or two curves
/// (say constant and cosine) lets <see cref="Predict"/> forecast the loss under another schedule (say WSD).
/// </remarks>
public static class AnnealingLossLaw
{
    /// <summary>The law's loss for <paramref name="schedule"/> at <paramref name="steps"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative step.</exception>
    /// <exception cref="ArgumentException">A step where the forward area is 0 (no learning yet), where the law is undefined.</exception>
    public static double[] Predict(LossLawParameters parameters, ISchedule schedule, IReadOnlyList<long> steps,
        AnnealingAreaOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var areas = AnnealingAreas.Compute(schedule, steps, options);
        var losses = new double[areas.Steps.Count];
        for (var index = 0; index < losses.Length; index++)
        {
            RequirePositiveArea(areas, index, nameof(steps));
            losses[index] = parameters.LossAt(areas.S1[index], areas.S2[index]);
        }

        return losses;
    }

    /// <summary>Fits (L0, A, alpha, C) to <paramref name="curves"/>; see the type's remarks.</summary>
    /// <param name="curves">One or more observed curves, each with its schedule.</param>
    /// <param name="options">Huber threshold, box, starts; null: <see cref="LossLawFitOptions.Default"/>.</param>
    /// <exception cref="ArgumentException">No curves, or an observation where the forward area is 0.</exception>
    /// <exception cref="InvalidOperationException">No start produced a finite objective.</exception>
    public static LossLawFit Fit(IReadOnlyList<LossCurve> curves, LossLawFitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(curves);
        if (curves.Count == 0) throw new ArgumentException("At least one loss curve is needed.", nameof(curves));
        options ??= LossLawFitOptions.Default;

        var s1 = new List<double>();
        var s2 = new List<double>();
        var observed = new List<double>();
        foreach (var curve in curves)
        {
            ArgumentNullException.ThrowIfNull(curve, nameof(curves));
            var areas = AnnealingAreas.Compute(curve.Schedule, curve.Steps, curve.Areas);
            for (var index = 0; index < areas.Steps.Count; index++)
            {
                RequirePositiveArea(areas, index, nameof(curves));
                s1.Add(areas.S1[index]);
                s2.Add(areas.S2[index]);
                observed.Add(curve.Losses[index]);
            }
        }

        var objective = new LossLawObjective([.. s1], [.. s2], [.. observed], options.HuberDelta);
        var (best, bestValue, startCount, failedCount) = MinimiseFromGrid(objective, options);
        if (!double.IsFinite(bestValue))
            throw new InvalidOperationException("No start of the loss-law fit reached a finite objective.");

        var parameters = LossLawParameters.FromArray(best);
        var errors = new double[curves.Count];
        for (var index = 0; index < curves.Count; index++)
        {
            var predicted = Predict(parameters, curves[index].Schedule, curves[index].Steps, curves[index].Areas);
            var losses = curves[index].Losses;
            errors[index] = predicted.Select((value, point) => Math.Abs(value - losses[point]) / losses[point]).Average();
        }

        return new LossLawFit(parameters, bestValue, errors, startCount, failedCount);
    }

    /// <summary>
    /// Runs bounded BFGS from every start of the grid and keeps the best point evaluated: a start that ends in an
    /// optimizer error (iteration limit, failed line search) still contributes the best point it reached.
    /// </summary>
    private static (double[] Best, double BestValue, int StartCount, int FailedCount) MinimiseFromGrid(
        LossLawObjective objective, LossLawFitOptions options)
    {
        // The Huber objective is of order delta^2 per point near a good fit; scaling by 1/delta^2 puts it near 1 so
        // MathNet's relative-gradient test (normalised by max(|f|, 1)) is meaningful. The minimiser is unchanged.
        var scale = 1 / (options.HuberDelta * options.HuberDelta);
        var lower = Vector<double>.Build.DenseOfArray(options.LowerBound.ToArray());
        var upper = Vector<double>.Build.DenseOfArray(options.UpperBound.ToArray());
        var best = new double[4];
        var bestValue = double.PositiveInfinity;

        (double, Vector<double>) ValueAndGradient(Vector<double> point)
        {
            var parameters = point.ToArray();
            var gradient = new double[4];
            var value = options.Gradient == LossLawGradient.Analytic
                ? objective.Evaluate(parameters, gradient)
                : ValueWithCentralDifferences(objective, parameters, gradient);
            if (value < bestValue)
            {
                bestValue = value;
                parameters.CopyTo(best, 0);
            }

            for (var index = 0; index < 4; index++) gradient[index] *= scale;
            return (value * scale, Vector<double>.Build.DenseOfArray(gradient));
        }

        var function = ObjectiveFunction.Gradient(ValueAndGradient);
        int startCount = 0, failedCount = 0;
        foreach (var l0 in options.L0Starts)
        foreach (var a in options.AStarts)
        foreach (var alpha in options.AlphaStarts)
        foreach (var c in options.CStarts)
        {
            startCount++;
            var minimizer = new BfgsBMinimizer(1e-10, 1e-12, 1e-12, options.MaximumIterations);
            try
            {
                minimizer.FindMinimum(function, lower, upper, Vector<double>.Build.DenseOfArray([l0, a, alpha, c]));
            }
            // MathNet's BFGS-B reports trouble as OptimizationException, and a quasi-Newton matrix that lost positive
            // definiteness as ArgumentException from its Cholesky factorisation; either way the start's best point stays.
            catch (Exception exception) when (exception is OptimizationException or ArgumentException)
            {
                failedCount++;
            }
        }

        return (best, bestValue, startCount, failedCount);
    }

    private static double ValueWithCentralDifferences(LossLawObjective objective, double[] parameters, double[] gradient)
    {
        var value = objective.Evaluate(parameters, []);
        var probe = (double[])parameters.Clone();
        for (var index = 0; index < parameters.Length; index++)
        {
            var step = 1e-6 * Math.Max(1, Math.Abs(parameters[index]));
            probe[index] = parameters[index] + step;
            var plus = objective.Evaluate(probe, []);
            probe[index] = parameters[index] - step;
            var minus = objective.Evaluate(probe, []);
            probe[index] = parameters[index];
            gradient[index] = (plus - minus) / (2 * step);
        }

        return value;
    }

    private static void RequirePositiveArea(AnnealingAreas areas, int index, string name)
    {
        if (!(areas.S1[index] > 0))
            throw new ArgumentException(
                $"At step {areas.Steps[index]} the forward area S1 is {areas.S1[index]}; the law needs S1 > 0 (count warm-up at the peak, or drop steps before any learning).", name);
    }
}
