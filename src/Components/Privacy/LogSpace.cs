using MathNet.Numerics;

namespace Pipelines.Components.Privacy;

/// <summary>Arithmetic on numbers held as their logarithms, and the log of erfc far into its tail.</summary>
/// <remarks>
/// The accountant's sums (Mironov, Talwar and Zhang 2019, arXiv 1908.10530) have terms from e^-700 to e^+700,
/// so they are added as logarithms. <c>erfc(x)</c> underflows to 0 in double near x = 26.5, but its logarithm is
/// needed far beyond, so <see cref="LogErfc"/> switches to the asymptotic series there.
/// </remarks>
internal static class LogSpace
{
    /// <summary>Above this argument <see cref="LogErfc"/> uses the asymptotic series instead of MathNet's erfc.</summary>
    /// <remarks>At x = 25 the series' terms shrink by (2n-1)/(2x^2) &lt;= 1/14 each for the first 90 terms, so it
    /// reaches double precision after about 12 of them, while erfc(25) ~ 1e-273 is still a normal double.</remarks>
    internal const double AsymptoticThreshold = 25;

    private static readonly double LogSquareRootPi = 0.5 * Math.Log(Math.PI);

    /// <summary>log(e^a + e^b), exact for infinite arguments.</summary>
    public static double Add(double logA, double logB)
    {
        var larger = Math.Max(logA, logB);
        var smaller = Math.Min(logA, logB);
        if (double.IsNegativeInfinity(smaller)) return larger;
        if (double.IsPositiveInfinity(larger)) return larger;
        return larger + Math.Log(1 + Math.Exp(smaller - larger));
    }

    /// <summary>log(e^a - e^b) for a &gt;= b; -infinity when they are equal.</summary>
    /// <exception cref="ArgumentException"><paramref name="logB"/> exceeds <paramref name="logA"/> (the difference would be negative).</exception>
    public static double Subtract(double logA, double logB)
    {
        if (logB > logA) throw new ArgumentException($"log-space subtraction would be negative: log a = {logA}, log b = {logB}.", nameof(logB));
        if (double.IsNegativeInfinity(logB)) return logA;
        if (logA == logB) return double.NegativeInfinity;
        // log(e^a - e^b) = a + log(1 - e^(b-a)); LogOneMinusExp keeps precision when b - a is close to 0.
        return logA + LogOneMinusExp(logB - logA);
    }

    /// <summary>log(1 - e^x) for x &lt; 0, accurate for x near 0 and for large negative x (Maechler 2012).</summary>
    public static double LogOneMinusExp(double x) =>
        x > -0.6931471805599453 ? Math.Log(-ExpMinusOne(x)) : LogOnePlus(-Math.Exp(x));

    /// <summary>log(1 + x), accurate for small x (Kahan's trick; .NET's <c>double.LogP1</c> is <c>Log(1 + x)</c>).</summary>
    public static double LogOnePlus(double x)
    {
        var onePlus = 1 + x;
        if (onePlus == 1) return x;
        return Math.Log(onePlus) * (x / (onePlus - 1));
    }

    /// <summary>e^x - 1, accurate for small x (Kahan's trick; .NET's <c>double.ExpM1</c> is <c>Exp(x) - 1</c>).</summary>
    public static double ExpMinusOne(double x)
    {
        var exponential = Math.Exp(x);
        if (exponential == 1) return x;
        var minusOne = exponential - 1;
        if (minusOne == -1) return -1;
        return minusOne * (x / Math.Log(exponential));
    }

    /// <summary>log(erfc(x)) for every finite x, with relative accuracy near double precision.</summary>
    /// <remarks>
    /// For x &lt;= 25: log of MathNet's <see cref="SpecialFunctions.Erfc"/> (relative accuracy ~1e-15 in the tail).
    /// Beyond: <c>erfc(x) = e^(-x^2) / (x sqrt(pi)) * sum_n (-1)^n (2n-1)!! / (2x^2)^n</c>, summed until a term
    /// falls below 1e-17 (it does before the terms start to grow).
    /// </remarks>
    public static double LogErfc(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x <= AsymptoticThreshold) return Math.Log(SpecialFunctions.Erfc(x));
        if (double.IsPositiveInfinity(x)) return double.NegativeInfinity;

        var inverseTwoXSquared = 1 / (2 * x * x);
        double series = 1, term = 1;
        for (var n = 1; n < 200; n++)
        {
            term *= -(2 * n - 1) * inverseTwoXSquared;
            series += term;
            if (Math.Abs(term) < 1e-17) break;
        }

        return -x * x - Math.Log(x) - LogSquareRootPi + Math.Log(series);
    }
}
