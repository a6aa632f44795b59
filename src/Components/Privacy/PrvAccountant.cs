using System.Numerics;
using MathNet.Numerics;
using MathNet.Numerics.IntegralTransforms;

namespace Pipelines.Components.Privacy;

/// <summary>Epsilon from the PRV accountant: a lower bound, the estimate and the upper bound (the guarantee).</summary>
/// <param name="Lower">The estimate at delta + delta error, minus the epsilon error.</param>
/// <param name="Estimate">The epsilon of the discretised composition at delta.</param>
/// <param name="Upper">The estimate at delta - delta error, plus the epsilon error: what the run may claim.</param>
public sealed record PrvEpsilon(double Lower, double Estimate, double Upper);

/// <summary>
/// The privacy-loss-random-variable (PRV) accountant of Gopi, Lee and Wutschitz 2021 (arXiv 2106.02848) for the
/// Poisson-subsampled Gaussian, as Opacus's <c>PRVAccountant</c>: tighter than the RDP accountant on the same history.
/// </summary>
/// <remarks>
/// <para>
/// One step's privacy loss Y has the CDF (Gopi et al., propositions B1 and B4), with <c>z = ln((e^t + q - 1) / q)</c>:
/// <c>F(t) = 1 - (q/2) erfc((2 z sigma^2 - 1) / (2 sqrt(2) sigma)) - ((1-q)/2) erfc((2 z sigma^2 + 1) / (2 sqrt(2) sigma))</c>
/// for <c>t &gt; ln(1 - q)</c>, else 0. It is truncated to <c>[-L, L]</c> with L from the RDP accountant
/// (<c>max(eps_RDP(delta_err / 4), eps_RDP,1 step(delta_err / (8 n))) + 3</c>, remark 5.6), discretised on a mesh of
/// <c>eps_err / sqrt(n ln(12 / delta_err) / 2)</c> with its mean kept (the grid is shifted by the mean's error), and the
/// n steps are composed by FFT: the pmf of the sum is the inverse transform of the product of the phases' transforms,
/// each raised to its step count. Then <c>delta(eps) = sum_{t_i &gt;= eps} p_i (1 - e^(eps - t_i))</c> is inverted on the grid.
/// </para>
/// <para>Defaults as Opacus: eps_err = 0.01, delta_err = delta / 1000; <see cref="PrvEpsilon.Upper"/> is the guarantee.</para>
/// </remarks>
public static class PrvAccountant
{
    /// <summary>Epsilon of <paramref name="history"/> at <paramref name="delta"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">delta outside (0, 1), a non-positive error, or a history without steps.</exception>
    /// <exception cref="InvalidOperationException">The discretisation cannot reach the requested accuracy (the mesh is too coarse for the mean, or delta is too small for the grid).</exception>
    public static PrvEpsilon Epsilon(IReadOnlyList<PrivacyPhase> history, double delta, double epsilonError = 0.01, double? deltaError = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        PrivacyGuard.Delta(delta, nameof(delta));
        PrivacyGuard.Epsilon(epsilonError, nameof(epsilonError));
        var deltaTolerance = deltaError ?? delta / 1000;
        if (!(deltaTolerance > 0 && deltaTolerance < delta))
            throw new ArgumentOutOfRangeException(nameof(deltaError), deltaTolerance, "deltaError must be in (0, delta).");
        var phases = history.Where(phase => phase.Steps > 0).ToArray();
        var totalSteps = phases.Sum(phase => phase.Steps);
        if (totalSteps == 0) throw new ArgumentOutOfRangeException(nameof(history), 0, "The history has no steps: epsilon is 0.");

        var bound = SafeBound(phases, totalSteps, epsilonError, deltaTolerance);
        var mesh = epsilonError / Math.Sqrt(totalSteps * Math.Log(12 / deltaTolerance) / 2);
        var grid = Grid.Aligned(-bound, bound, mesh);

        var transform = new Complex[grid.Size];
        transform.AsSpan().Fill(Complex.One);
        double shift = 0;
        foreach (var phase in phases)
        {
            var (pmf, phaseShift) = Discretise(phase, grid);
            var spectrum = pmf.Select(value => new Complex(value, 0)).ToArray();
            Fourier.Forward(spectrum, FourierOptions.Matlab);
            for (var index = 0; index < spectrum.Length; index++) transform[index] *= Complex.Pow(spectrum[index], phase.Steps);
            shift += phase.Steps * phaseShift;
        }

        Fourier.Inverse(transform, FourierOptions.Matlab);
        // The sum of n grid points t_min + i dt lies at t_min + k dt when sum(i) = k + (n - 1) M, with t_min = -M dt.
        var offset = (long)Math.Round(-grid.Minimum / grid.Step) * (totalSteps - 1);
        var composed = new double[grid.Size];
        for (var k = 0; k < grid.Size; k++) composed[k] = transform[(int)(((k + offset) % grid.Size + grid.Size) % grid.Size)].Real;
        var points = Enumerable.Range(0, grid.Size).Select(k => grid.Minimum + k * grid.Step + shift).ToArray();
        return EpsilonOf(composed, points, delta, deltaTolerance, epsilonError);
    }

    /// <summary>One step's privacy-loss CDF (see the remarks).</summary>
    internal static double Cdf(double t, double noiseMultiplier, double samplingRate)
    {
        var (q, sigma) = (samplingRate, noiseMultiplier);
        if (q < 1 && t <= Math.Log(1 - q)) return 0;
        var z = Math.Log((Math.Exp(t) + q - 1) / q);
        var scale = 2 * Math.Sqrt(2) * sigma;
        return 1 - q * SpecialFunctions.Erfc((2 * z * sigma * sigma - 1) / scale) / 2 - (1 - q) * SpecialFunctions.Erfc((2 * z * sigma * sigma + 1) / scale) / 2;
    }

    private static double SafeBound(IReadOnlyList<PrivacyPhase> phases, long totalSteps, double epsilonError, double deltaError)
    {
        var bound = new RdpAccountant(phases).GetEpsilon(deltaError / 4);
        foreach (var phase in phases)
            bound = Math.Max(bound, new RdpAccountant([new PrivacyPhase(phase.NoiseMultiplier, phase.SamplingRate, 1)]).GetEpsilon(deltaError / (8 * totalSteps)));
        return Math.Max(bound, epsilonError) + 3;
    }

    /// <summary>The truncated PRV's pmf on the grid, and the shift that makes the discrete mean the continuous one.</summary>
    private static (double[] Pmf, double Shift) Discretise(PrivacyPhase phase, Grid grid)
    {
        var (sigma, q) = (phase.NoiseMultiplier, phase.SamplingRate);
        var (low, high) = (grid.Minimum, grid.Maximum);
        var (cdfLow, mass) = (Cdf(low, sigma, q), Cdf(high, sigma, q) - Cdf(low, sigma, q));
        double Truncated(double t) => t < low ? 0 : t < high ? (Cdf(t, sigma, q) - cdfLow) / mass : 1;

        var pmf = new double[grid.Size];
        double discreteMean = 0;
        for (var index = 0; index < grid.Size; index++)
        {
            var t = low + index * grid.Step;
            pmf[index] = Truncated(t + grid.Step / 2) - Truncated(t - grid.Step / 2);
            discreteMean += t * pmf[index];
        }

        // E[Y] = sum over pieces of [t F(t)] - integral of F, split where F bends most (near 0).
        double[] cuts = [low, -1e-1, -1e-2, -1e-3, -1e-4, -1e-5, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, high];
        double mean = 0;
        for (var piece = 0; piece + 1 < cuts.Length; piece++)
        {
            var (left, right) = (cuts[piece], cuts[piece + 1]);
            mean += right * Truncated(right) - left * Truncated(left) - Integrate.GaussKronrod(Truncated, left, right, 1e-12, 20, 31);
        }

        var shift = mean - discreteMean;
        if (Math.Abs(shift) >= grid.Step / 2)
            throw new InvalidOperationException($"The discrete mean differs from the continuous one by {shift:G3}, at least half the mesh {grid.Step:G3}.");
        return (pmf, shift);
    }

    private static PrvEpsilon EpsilonOf(double[] pmf, double[] points, double delta, double deltaError, double epsilonError)
    {
        if (2.2e-16 * points.Length > delta - deltaError)
            throw new InvalidOperationException($"delta {delta:G3} is too small for a grid of {points.Length} points: rounding errors would dominate.");
        var size = pmf.Length;
        var (tail, weightedTail, negativeDelta) = (new double[size], new double[size], new double[size]);
        double sum = 0, weighted = 0;
        for (var index = size - 1; index >= 0; index--)
        {
            sum += pmf[index];
            weighted += pmf[index] * Math.Exp(-points[index]);
            (tail[index], weightedTail[index]) = (sum, weighted);
            negativeDelta[index] = Math.Exp(points[index]) * weighted - sum;
        }

        double Find(double target)
        {
            var index = Array.FindIndex(negativeDelta, value => value >= -target);
            if (index <= 0) throw new InvalidOperationException($"Epsilon at delta {target:G3} lies outside the grid.");
            return Math.Log((tail[index] - target) / weightedTail[index]);
        }

        return new PrvEpsilon(Find(delta + deltaError) - epsilonError, Find(delta), Find(delta - deltaError) + epsilonError);
    }

    /// <summary>An evenly spaced grid aligned to multiples of its step, with an even number of points.</summary>
    private sealed record Grid(double Minimum, double Maximum, int Size)
    {
        public double Step => (Maximum - Minimum) / (Size - 1);

        public static Grid Aligned(double minimum, double maximum, double step)
        {
            minimum = Math.Floor(minimum / step) * step;
            maximum = Math.Ceiling(maximum / step) * step;
            var size = (int)Math.Round((maximum - minimum) / step) + 1;
            if (size % 2 == 1) (size, maximum) = (size + 1, maximum + step);
            return new Grid(minimum, maximum, size);
        }
    }
}
