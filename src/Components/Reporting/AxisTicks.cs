using System.Globalization;

namespace Pipelines.Components.Reporting;

/// <summary>An axis range widened to round bounds, its tick values, and the mapping of values to [0, 1].</summary>
internal sealed class AxisTicks
{
    private AxisTicks(AxisScale scale, double minimum, double maximum, double[] ticks)
    {
        Scale = scale;
        Minimum = minimum;
        Maximum = maximum;
        Ticks = ticks;
    }

    public AxisScale Scale { get; }

    public double Minimum { get; }

    public double Maximum { get; }

    public double[] Ticks { get; }

    /// <summary>Round bounds covering [<paramref name="low"/>, <paramref name="high"/>] (finite; positive for a log scale) and ticks between them.</summary>
    public static AxisTicks Create(AxisScale scale, double low, double high, int targetTickCount = 6) =>
        scale == AxisScale.Logarithmic ? Logarithmic(low, high) : Linear(low, high, targetTickCount);

    /// <summary>Where <paramref name="value"/> falls between <see cref="Minimum"/> (0) and <see cref="Maximum"/> (1).</summary>
    public double Fraction(double value) =>
        Scale == AxisScale.Logarithmic
            ? (Math.Log10(value) - Math.Log10(Minimum)) / (Math.Log10(Maximum) - Math.Log10(Minimum))
            : (value - Minimum) / (Maximum - Minimum);

    /// <summary>A short invariant label: plain digits for moderate magnitudes, <c>2e-5</c> style otherwise.</summary>
    public static string Format(double value)
    {
        if (value == 0) return "0";
        var magnitude = Math.Abs(value);
        if (magnitude >= 1e5 || magnitude < 1e-3)
        {
            var exponent = (int)Math.Floor(Math.Log10(magnitude));
            var mantissa = Math.Round(value / Math.Pow(10, exponent), 3);
            return mantissa.ToString("0.###", CultureInfo.InvariantCulture) + "e" + exponent.ToString(CultureInfo.InvariantCulture);
        }

        return value.ToString("0.######", CultureInfo.InvariantCulture);
    }

    private static AxisTicks Linear(double low, double high, int targetTickCount)
    {
        if (low == high)
        {
            var pad = low == 0 ? 1 : Math.Abs(low) * 0.1;
            (low, high) = (low - pad, high + pad);
        }

        var step = NiceStep((high - low) / Math.Max(1, targetTickCount - 1));
        var first = Math.Floor(low / step + 1e-9);
        var last = Math.Ceiling(high / step - 1e-9);
        var decimals = Math.Clamp(1 - (int)Math.Floor(Math.Log10(step)), 0, 15);
        var ticks = new double[(int)(last - first) + 1];
        for (var index = 0; index < ticks.Length; index++) ticks[index] = Math.Round((first + index) * step, decimals);
        // Rounding may leave the outer ticks a hair inside the data; the bounds always cover it.
        return new AxisTicks(AxisScale.Linear, Math.Min(ticks[0], low), Math.Max(ticks[^1], high), ticks);
    }

    /// <summary>1, 2, 5 or 10 times a power of ten, whichever is nearest <paramref name="roughStep"/> (Heckbert's rounding).</summary>
    private static double NiceStep(double roughStep)
    {
        var power = Math.Pow(10, Math.Floor(Math.Log10(roughStep)));
        var fraction = roughStep / power;
        return (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * power;
    }

    private static AxisTicks Logarithmic(double low, double high)
    {
        var lowExponent = (int)Math.Floor(Math.Log10(low) + 1e-12);
        var highExponent = (int)Math.Ceiling(Math.Log10(high) - 1e-12);
        if (highExponent <= lowExponent) highExponent = lowExponent + 1;
        var decades = highExponent - lowExponent;

        var ticks = new List<double>();
        if (decades <= 1)
        {
            // Within one decade: bounds and ticks at whole multiples 1..9 of the decade's power of ten.
            var unit = Math.Pow(10, lowExponent);
            var first = Math.Max(1, Math.Floor(low / unit * (1 + 1e-12)));
            var last = Math.Min(10, Math.Ceiling(high / unit * (1 - 1e-12)));
            if (last <= first) last = first + 1;
            for (var multiple = first; multiple <= last; multiple++) ticks.Add(RoundSignificant(multiple * unit));
            return new AxisTicks(AxisScale.Logarithmic, ticks[0], ticks[^1], [.. ticks]);
        }

        double[] mantissas = decades <= 2 ? [1, 2, 5] : [1];
        var stride = Math.Max(1, (int)Math.Ceiling(decades / 8.0));
        for (var exponent = lowExponent; exponent < highExponent; exponent += stride)
        {
            foreach (var mantissa in mantissas) ticks.Add(RoundSignificant(mantissa * Math.Pow(10, exponent)));
        }

        ticks.Add(RoundSignificant(Math.Pow(10, highExponent)));
        return new AxisTicks(AxisScale.Logarithmic, Math.Pow(10, lowExponent), Math.Pow(10, highExponent), [.. ticks]);
    }

    private static double RoundSignificant(double value) => double.Parse(value.ToString("G12", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
