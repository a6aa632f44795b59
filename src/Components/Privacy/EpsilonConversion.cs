namespace Pipelines.Components.Privacy;

/// <summary>How an RDP curve becomes an (epsilon, delta) guarantee.</summary>
public enum EpsilonConversion
{
    /// <summary>
    /// <c>epsilon = min_alpha RDP(alpha) + log((alpha-1)/alpha) - (log delta + log alpha) / (alpha-1)</c>
    /// (Canonne, Kamath and Steinke 2020, arXiv 2004.00010, Proposition 12; the conversion Opacus uses). Tighter.
    /// </summary>
    Improved,

    /// <summary>
    /// <c>epsilon = min_alpha RDP(alpha) + log(1/delta) / (alpha-1)</c> (Mironov 2017, arXiv 1702.07476, Proposition 3;
    /// the conversion of TF-Privacy's tutorials).
    /// </summary>
    Classic,
}

/// <summary>The (epsilon, delta) conversions of <see cref="EpsilonConversion"/>, one order at a time.</summary>
public static class RdpConversion
{
    /// <summary>The epsilon that RDP <paramref name="rdp"/> at order <paramref name="order"/> gives for <paramref name="delta"/>.</summary>
    /// <remarks>Not clamped at 0: with a tiny RDP the improved formula can go slightly negative at small orders, and the minimum over orders is what counts.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">delta is outside (0, 1) or the order is not above 1.</exception>
    public static double Epsilon(double rdp, double order, double delta, EpsilonConversion conversion)
    {
        PrivacyGuard.Delta(delta, nameof(delta));
        PrivacyGuard.Order(order, nameof(order));
        return conversion switch
        {
            EpsilonConversion.Improved => rdp + Math.Log((order - 1) / order) - (Math.Log(delta) + Math.Log(order)) / (order - 1),
            EpsilonConversion.Classic => rdp - Math.Log(delta) / (order - 1),
            _ => throw new ArgumentOutOfRangeException(nameof(conversion), conversion, "Unknown conversion."),
        };
    }

    /// <summary>The smallest epsilon over <paramref name="orders"/>, with the order that gives it.</summary>
    /// <param name="rdp">The RDP at each order (same length as <paramref name="orders"/>).</param>
    /// <param name="orders">The orders, each above 1.</param>
    /// <param name="delta">delta in (0, 1).</param>
    /// <param name="conversion">The conversion formula.</param>
    /// <returns>The guarantee; epsilon is +infinity (and the order NaN) when every order's RDP is infinite.</returns>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static PrivacySpent Minimize(IReadOnlyList<double> rdp, IReadOnlyList<double> orders, double delta, EpsilonConversion conversion)
    {
        ArgumentNullException.ThrowIfNull(rdp);
        PrivacyGuard.Orders(orders, nameof(orders));
        if (rdp.Count != orders.Count) throw new ArgumentException($"rdp has {rdp.Count} values but there are {orders.Count} orders.", nameof(rdp));

        var bestIndex = -1;
        var bestEpsilon = double.PositiveInfinity;
        for (var index = 0; index < orders.Count; index++)
        {
            var epsilon = Epsilon(rdp[index], orders[index], delta, conversion);
            if (epsilon < bestEpsilon)
            {
                bestEpsilon = epsilon;
                bestIndex = index;
            }
        }

        if (bestIndex < 0) return new PrivacySpent(double.PositiveInfinity, delta, double.NaN, OrderBoundary.None, conversion);
        var boundary = bestIndex == 0 ? OrderBoundary.Smallest : bestIndex == orders.Count - 1 ? OrderBoundary.Largest : OrderBoundary.None;
        return new PrivacySpent(bestEpsilon, delta, orders[bestIndex], boundary, conversion);
    }
}
