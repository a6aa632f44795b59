using System.Globalization;

namespace Pipelines.Experiments;

/// <summary>How the experiments' reports print learning rates and losses.</summary>
internal static class ExperimentText
{
    /// <summary>A learning rate as short text: <c>3e-4</c>, <c>1e-3</c>, <c>2.5e-3</c>.</summary>
    public static string Rate(double rate)
    {
        var exponent = (int)Math.Floor(Math.Log10(rate));
        var mantissa = Math.Round(rate / Math.Pow(10, exponent), 3);
        if (mantissa >= 10)
        {
            mantissa /= 10;
            exponent++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{mantissa:0.###}e{exponent}");
    }

    /// <summary>A final loss with four decimals, or <c>diverged</c> when it is not finite.</summary>
    public static string Loss(double loss) => double.IsFinite(loss) ? loss.ToString("F4", CultureInfo.InvariantCulture) : "diverged";
}
