namespace Pipelines.Components.Privacy;

/// <summary>Chooses DP-SGD's noise for a privacy budget, and the number of steps a budget allows.</summary>
/// <remarks>
/// Both run the <see cref="RdpAccountant"/> (Mironov 2017, arXiv 1702.07476; Mironov, Talwar and Zhang 2019,
/// arXiv 1908.10530) forwards. The noise search is Opacus's: <c>sigma_lo = 0</c>, <c>sigma_hi = 10</c>; double
/// <c>sigma_hi</c> until <c>epsilon(sigma_hi) &lt;= target</c>; then bisect, keeping <c>sigma_hi</c> on the safe side,
/// until <c>target - epsilon(sigma_hi) &lt;= tolerance</c>; return <c>sigma_hi</c>. The answer therefore always meets
/// the budget and wastes at most <c>tolerance</c> of it. Opacus's known value: 1.416 for epsilon 8, delta 1e-5,
/// q 0.04, 90 epochs.
/// </remarks>
public static class NoiseCalibration
{
    /// <summary>Opacus's default: the returned sigma spends at least <c>target - 0.01</c>.</summary>
    public const double DefaultTolerance = 0.01;

    /// <summary>Beyond this sigma the budget is called unreachable (the update would be all noise).</summary>
    public const double MaximumNoiseMultiplier = 1e6;

    private const int MaximumBisections = 200;

    /// <summary>The steps of <paramref name="epochs"/> passes at sampling rate q: <c>floor(epochs / q)</c> (as Opacus).</summary>
    /// <exception cref="ArgumentOutOfRangeException">epochs is negative or not finite, or q is outside (0, 1].</exception>
    public static long StepsForEpochs(double epochs, double samplingRate)
    {
        if (!(double.IsFinite(epochs) && epochs >= 0)) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "epochs must be finite and non-negative.");
        PrivacyGuard.SamplingRate(samplingRate, nameof(samplingRate));
        return (long)Math.Floor(epochs / samplingRate);
    }

    /// <summary>The smallest noise multiplier (to within the tolerance) whose run of <paramref name="steps"/> steps spends at most <paramref name="targetEpsilon"/>.</summary>
    /// <param name="targetEpsilon">The budget epsilon; above 0.</param>
    /// <param name="delta">delta in (0, 1).</param>
    /// <param name="samplingRate">q in (0, 1].</param>
    /// <param name="steps">The steps still to run; at least 1.</param>
    /// <param name="tolerance">How far below the target the answer's epsilon may be; above 0.</param>
    /// <param name="conversion">The RDP-to-epsilon conversion.</param>
    /// <param name="orders">The orders; <see cref="RdpOrders.Default"/> when null.</param>
    /// <param name="alreadySpent">A history the new steps add to (a resumed run, a changed noise level), or null.</param>
    /// <param name="datasetSize">N, when known: delta must then be below 1/N.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range, or the target cannot be met below
    /// <see cref="MaximumNoiseMultiplier"/> (the message names <paramref name="targetEpsilon"/>).</exception>
    public static double NoiseMultiplier(
        double targetEpsilon, double delta, double samplingRate, long steps, double tolerance = DefaultTolerance,
        EpsilonConversion conversion = EpsilonConversion.Improved, IReadOnlyList<double>? orders = null, RdpAccountant? alreadySpent = null,
        long? datasetSize = null)
    {
        PrivacyGuard.Epsilon(targetEpsilon, nameof(targetEpsilon));
        PrivacyGuard.Delta(delta, nameof(delta), datasetSize);
        PrivacyGuard.SamplingRate(samplingRate, nameof(samplingRate));
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps must be at least 1: without steps every noise level spends the same.");
        PrivacyGuard.Epsilon(tolerance, nameof(tolerance));
        orders = PrivacyGuard.Orders(orders ?? RdpOrders.Default, nameof(orders));
        var spentRdp = alreadySpent?.Rdp(orders) ?? new double[orders.Count];

        double Epsilon(double sigma)
        {
            var rdp = SubsampledGaussianRdp.Compose(sigma, samplingRate, steps, orders);
            for (var index = 0; index < rdp.Length; index++) rdp[index] += spentRdp[index];
            return RdpConversion.Minimize(rdp, orders, delta, conversion).Epsilon;
        }

        double sigmaLow = 0, sigmaHigh = 10, epsilonHigh = double.PositiveInfinity;
        while (epsilonHigh > targetEpsilon)
        {
            sigmaHigh *= 2;
            if (sigmaHigh > MaximumNoiseMultiplier)
                throw new ArgumentOutOfRangeException(nameof(targetEpsilon), targetEpsilon,
                    $"targetEpsilon cannot be met with a noise multiplier up to {MaximumNoiseMultiplier:G}: the budget is too small for {steps} steps at q = {samplingRate} (and the history already spent).");
            epsilonHigh = Epsilon(sigmaHigh);
        }

        for (var bisection = 0; bisection < MaximumBisections && targetEpsilon - epsilonHigh > tolerance; bisection++)
        {
            var sigma = (sigmaLow + sigmaHigh) / 2;
            var epsilon = Epsilon(sigma);
            if (epsilon < targetEpsilon)
            {
                sigmaHigh = sigma;
                epsilonHigh = epsilon;
            }
            else
            {
                sigmaLow = sigma;
            }
        }

        return sigmaHigh;
    }

    /// <summary>
    /// The proposed noise multiplier if the run's projected epsilon stays within the budget with it, else the smallest
    /// larger one that does: the guard an adaptive noise policy (e.g. RLDP's) applies before each action.
    /// </summary>
    /// <remarks>Projects <c>alreadySpent</c> plus <paramref name="remainingSteps"/> steps at (sigma, q) and compares with the budget; raising uses <see cref="NoiseMultiplier"/>.</remarks>
    /// <param name="proposedNoiseMultiplier">The sigma the policy wants, at least 0.</param>
    /// <param name="alreadySpent">The history so far.</param>
    /// <param name="remainingSteps">Steps still to run at this sigma, at least 1.</param>
    /// <param name="samplingRate">q in (0, 1].</param>
    /// <param name="targetEpsilon">The run's whole budget, above 0.</param>
    /// <param name="delta">delta in (0, 1).</param>
    /// <param name="conversion">The RDP-to-epsilon conversion.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range, or the history alone exceeds the budget.</exception>
    public static double EnforceBudget(
        double proposedNoiseMultiplier, RdpAccountant alreadySpent, long remainingSteps, double samplingRate, double targetEpsilon, double delta,
        EpsilonConversion conversion = EpsilonConversion.Improved)
    {
        ArgumentNullException.ThrowIfNull(alreadySpent);
        PrivacyGuard.NoiseMultiplier(proposedNoiseMultiplier, nameof(proposedNoiseMultiplier));
        if (remainingSteps < 1) throw new ArgumentOutOfRangeException(nameof(remainingSteps), remainingSteps, "remainingSteps must be at least 1.");
        PrivacyGuard.Epsilon(targetEpsilon, nameof(targetEpsilon));
        var projected = new RdpAccountant(alreadySpent.History);
        projected.Step(proposedNoiseMultiplier, samplingRate, remainingSteps);
        if (projected.GetEpsilon(delta, conversion) <= targetEpsilon) return proposedNoiseMultiplier;
        return NoiseMultiplier(targetEpsilon, delta, samplingRate, remainingSteps, conversion: conversion, alreadySpent: alreadySpent);
    }

    /// <summary>The most steps at noise multiplier sigma and rate q whose epsilon (added to <paramref name="alreadySpent"/>) stays within the budget.</summary>
    /// <remarks>
    /// RDP is linear in the steps, so for each order alpha the budget allows
    /// <c>T_alpha = floor((target - c_alpha - spent_alpha) / rdp_alpha)</c> steps, where <c>c_alpha</c> is the
    /// conversion's own term; the answer is the largest <c>T_alpha</c>, checked against the accountant's epsilon.
    /// </remarks>
    /// <param name="targetEpsilon">The budget epsilon; above 0.</param>
    /// <param name="delta">delta in (0, 1).</param>
    /// <param name="noiseMultiplier">sigma, at least 0.</param>
    /// <param name="samplingRate">q in (0, 1].</param>
    /// <param name="conversion">The RDP-to-epsilon conversion.</param>
    /// <param name="orders">The orders; <see cref="RdpOrders.Default"/> when null.</param>
    /// <param name="alreadySpent">A history the new steps add to, or null.</param>
    /// <param name="datasetSize">N, when known: delta must then be below 1/N.</param>
    /// <returns>The step count (0 when not even one step fits; <see cref="long.MaxValue"/> when the per-step RDP is 0).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public static long MaximumSteps(
        double targetEpsilon, double delta, double noiseMultiplier, double samplingRate,
        EpsilonConversion conversion = EpsilonConversion.Improved, IReadOnlyList<double>? orders = null, RdpAccountant? alreadySpent = null,
        long? datasetSize = null)
    {
        PrivacyGuard.Epsilon(targetEpsilon, nameof(targetEpsilon));
        PrivacyGuard.Delta(delta, nameof(delta), datasetSize);
        PrivacyGuard.NoiseMultiplier(noiseMultiplier, nameof(noiseMultiplier));
        PrivacyGuard.SamplingRate(samplingRate, nameof(samplingRate));
        orders = PrivacyGuard.Orders(orders ?? RdpOrders.Default, nameof(orders));
        var spentRdp = alreadySpent?.Rdp(orders) ?? new double[orders.Count];
        var perStep = SubsampledGaussianRdp.Compose(noiseMultiplier, samplingRate, 1, orders);

        double best = 0;
        for (var index = 0; index < orders.Count; index++)
        {
            var room = targetEpsilon - RdpConversion.Epsilon(spentRdp[index], orders[index], delta, conversion);
            if (room < 0 || double.IsPositiveInfinity(perStep[index])) continue;
            best = Math.Max(best, perStep[index] == 0 ? double.PositiveInfinity : Math.Floor(room / perStep[index]));
        }

        if (best >= long.MaxValue) return long.MaxValue;

        // Settle rounding at the edge against the epsilon the accountant reports.
        double EpsilonAfter(long steps)
        {
            var rdp = new double[orders.Count];
            for (var index = 0; index < rdp.Length; index++) rdp[index] = spentRdp[index] + (steps == 0 ? 0 : steps * perStep[index]);
            return RdpConversion.Minimize(rdp, orders, delta, conversion).Epsilon;
        }

        var answer = (long)best;
        while (answer > 0 && EpsilonAfter(answer) > targetEpsilon) answer--;
        while (answer < long.MaxValue && EpsilonAfter(answer + 1) <= targetEpsilon) answer++;
        return answer;
    }
}
