namespace Pipelines.Components.Privacy;

/// <summary>
/// Renyi differential privacy of one step of the Poisson-subsampled Gaussian mechanism (DP-SGD's step).
/// </summary>
/// <remarks>
/// <para>
/// With mu0 = N(0, sigma^2), mu1 = N(1, sigma^2) and mu = (1-q) mu0 + q mu1, the RDP of order alpha is
/// <c>log(A_alpha) / (alpha - 1)</c> with <c>A_alpha = E_{z~mu0}[(mu(z)/mu0(z))^alpha]</c>
/// (Mironov 2017, arXiv 1702.07476; Mironov, Talwar and Zhang 2019, arXiv 1908.10530).
/// </para>
/// <para>
/// Integer alpha (binomial expansion):
/// <c>A = sum_{k=0..alpha} C(alpha,k) (1-q)^(alpha-k) q^k exp((k^2-k) / (2 sigma^2))</c>.
/// </para>
/// <para>
/// Fractional alpha (arXiv 1908.10530, section 3.3): split the integral at
/// <c>z0 = sigma^2 log(1/q - 1) + 1/2</c>, where (1-q) mu0 = q mu1, and expand each side in the series that
/// converges there; with j = alpha - i and generalised binomial coefficients C(alpha, i) (signs alternate
/// once i &gt; alpha):
/// <c>A = sum_{i&gt;=0} C(alpha,i) [ q^i (1-q)^j exp((i^2-i)/(2 sigma^2)) erfc((i - z0)/(sqrt2 sigma)) / 2
///                          + q^j (1-q)^i exp((j^2-j)/(2 sigma^2)) erfc((z0 - j)/(sqrt2 sigma)) / 2 ]</c>,
/// summed in log space (positive and negative terms apart) until, past i = alpha, both terms of an index fall below
/// e^-30, as Opacus does. Past alpha the terms only shrink (up to a factor of 2): below z0 the factor
/// <c>(q/(1-q))^i exp((i^2-i)/(2 sigma^2))</c> decreases, its minimum being at z0, and beyond z0 the erfc tail cancels
/// it, leaving |C(alpha, i)| ~ i^(-alpha-1) with alternating signs. As A &gt;= 1 the truncation is about 1e-13 relative.
/// </para>
/// <para>Special cases: q = 0 gives 0; sigma = 0 gives +infinity; q = 1 gives alpha / (2 sigma^2).</para>
/// </remarks>
public static class SubsampledGaussianRdp
{
    private const double TruncationLog = -30;
    private const int MaximumTerms = 50_000_000;

    /// <summary>The RDP of order <paramref name="order"/> of one step.</summary>
    /// <param name="noiseMultiplier">sigma, the noise standard deviation over the clipping norm; at least 0.</param>
    /// <param name="samplingRate">q, the probability that an example joins the batch; in [0, 1].</param>
    /// <param name="order">alpha, finite and above 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range (the message names it and its value).</exception>
    public static double PerStep(double noiseMultiplier, double samplingRate, double order)
    {
        PrivacyGuard.NoiseMultiplier(noiseMultiplier, nameof(noiseMultiplier));
        if (!(samplingRate is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(samplingRate), samplingRate, "samplingRate must be in [0, 1].");
        PrivacyGuard.Order(order, nameof(order));

        if (samplingRate == 0) return 0;
        if (noiseMultiplier == 0) return double.PositiveInfinity;
        if (samplingRate == 1) return order / (2 * noiseMultiplier * noiseMultiplier);

        var logA = order == Math.Floor(order) && order <= int.MaxValue
            ? LogAIntegerOrder(noiseMultiplier, samplingRate, (int)order)
            : LogAFractionalOrder(noiseMultiplier, samplingRate, order);
        return logA / (order - 1);
    }

    /// <summary>The RDP of <paramref name="steps"/> identical steps at each of <paramref name="orders"/>: steps compose additively.</summary>
    /// <returns>One value per order; 0 for every order when <paramref name="steps"/> is 0.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public static double[] Compose(double noiseMultiplier, double samplingRate, long steps, IReadOnlyList<double> orders)
    {
        PrivacyGuard.Steps(steps, nameof(steps));
        PrivacyGuard.Orders(orders, nameof(orders));
        var rdp = new double[orders.Count];
        if (steps == 0) return rdp;
        for (var index = 0; index < rdp.Length; index++) rdp[index] = steps * PerStep(noiseMultiplier, samplingRate, orders[index]);
        return rdp;
    }

    /// <summary>log A for an integer order, by the binomial sum in log space.</summary>
    internal static double LogAIntegerOrder(double sigma, double q, int alpha)
    {
        var logQ = Math.Log(q);
        var logOneMinusQ = LogSpace.LogOnePlus(-q);
        var twoSigmaSquared = 2 * sigma * sigma;
        var logA = double.NegativeInfinity;
        for (var k = 0; k <= alpha; k++)
        {
            var logTerm = MathNet.Numerics.SpecialFunctions.BinomialLn(alpha, k)
                + k * logQ + (alpha - k) * logOneMinusQ
                + ((double)k * k - k) / twoSigmaSquared;
            logA = LogSpace.Add(logA, logTerm);
        }

        return logA;
    }

    /// <summary>log A for a fractional order, by the two-sided erfc series of arXiv 1908.10530, section 3.3.</summary>
    internal static double LogAFractionalOrder(double sigma, double q, double alpha)
    {
        var logQ = Math.Log(q);
        var logOneMinusQ = LogSpace.LogOnePlus(-q);
        var twoSigmaSquared = 2 * sigma * sigma;
        var erfcScale = 1 / (Math.Sqrt(2) * sigma);
        var logHalf = -Math.Log(2);
        var z0 = sigma * sigma * (logOneMinusQ - logQ) + 0.5;

        double logPositive = double.NegativeInfinity, logNegative = double.NegativeInfinity;
        double logAbsCoefficient = 0, coefficientSign = 1;
        for (var i = 0; i < MaximumTerms; i++)
        {
            if (i > 0)
            {
                // C(alpha, i) = C(alpha, i-1) (alpha - i + 1) / i, kept as log magnitude and sign.
                var factor = alpha - i + 1;
                logAbsCoefficient += Math.Log(Math.Abs(factor)) - Math.Log(i);
                if (factor < 0) coefficientSign = -coefficientSign;
            }

            var j = alpha - i;
            var logLowerSide = logAbsCoefficient + i * logQ + j * logOneMinusQ + ((double)i * i - i) / twoSigmaSquared
                + logHalf + LogSpace.LogErfc((i - z0) * erfcScale);
            var logUpperSide = logAbsCoefficient + j * logQ + i * logOneMinusQ + (j * j - j) / twoSigmaSquared
                + logHalf + LogSpace.LogErfc((z0 - j) * erfcScale);
            var logTerm = LogSpace.Add(logLowerSide, logUpperSide);
            if (coefficientSign > 0) logPositive = LogSpace.Add(logPositive, logTerm);
            else logNegative = LogSpace.Add(logNegative, logTerm);

            if (i > alpha && Math.Max(logLowerSide, logUpperSide) < TruncationLog)
                return LogSpace.Subtract(logPositive, logNegative);
        }

        throw new InvalidOperationException(
            $"The RDP series for sigma = {sigma}, q = {q}, alpha = {alpha} did not reach e^{TruncationLog} within {MaximumTerms} terms.");
    }
}
