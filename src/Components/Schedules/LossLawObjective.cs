namespace Pipelines.Components.Schedules;

/// <summary>
/// The fit's objective over precomputed areas: <c>sum_j Huber_delta(log L_obs_j - log L_pred_j)</c>, with
/// <c>L_pred = L0 + A S1^(-alpha) - C S2</c>, and its exact gradient with respect to (L0, A, alpha, C).
/// </summary>
/// <remarks>
/// Where a trial point predicts a loss below <see cref="LogFloor"/> the log is continued by its tangent there, so
/// the objective stays finite and smooth and the optimizer is pushed back rather than stopped by a NaN.
/// </remarks>
internal sealed class LossLawObjective
{
    public const double LogFloor = 1e-8;

    private readonly double[] _logS1;
    private readonly double[] _s2;
    private readonly double[] _logObserved;
    private readonly double _delta;

    public LossLawObjective(double[] s1, double[] s2, double[] observed, double delta)
    {
        _logS1 = [.. s1.Select(value => Math.Log(value))];
        _s2 = s2;
        _logObserved = [.. observed.Select(value => Math.Log(value))];
        _delta = delta;
    }

    public int Count => _s2.Length;

    /// <summary>The objective at <paramref name="parameters"/>; adds its gradient into <paramref name="gradient"/> when not empty.</summary>
    public double Evaluate(ReadOnlySpan<double> parameters, Span<double> gradient)
    {
        double l0 = parameters[0], a = parameters[1], alpha = parameters[2], c = parameters[3];
        var total = 0.0;
        for (var index = 0; index < _s2.Length; index++)
        {
            var power = Math.Exp(-alpha * _logS1[index]);
            var predicted = l0 + a * power - c * _s2[index];
            double logPredicted, logSlope;
            if (predicted >= LogFloor)
            {
                logPredicted = Math.Log(predicted);
                logSlope = 1 / predicted;
            }
            else
            {
                logPredicted = Math.Log(LogFloor) + (predicted - LogFloor) / LogFloor;
                logSlope = 1 / LogFloor;
            }

            var residual = _logObserved[index] - logPredicted;
            var magnitude = Math.Abs(residual);
            total += magnitude <= _delta ? 0.5 * residual * residual : _delta * (magnitude - 0.5 * _delta);
            if (gradient.IsEmpty) continue;
            // dHuber/dpredicted = -clip(residual, -delta, delta) * dlog/dpredicted.
            var slope = -Math.Clamp(residual, -_delta, _delta) * logSlope;
            gradient[0] += slope;
            gradient[1] += slope * power;
            gradient[2] += slope * -a * power * _logS1[index];
            gradient[3] += slope * -_s2[index];
        }

        return total;
    }
}
