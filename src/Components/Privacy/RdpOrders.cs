namespace Pipelines.Components.Privacy;

/// <summary>The Renyi orders at which the accountant tracks privacy loss.</summary>
/// <remarks>
/// The default grid is Opacus's and TF-Privacy's: 1.1, 1.2, ..., 10.9 (99 orders), then 12, 13, ..., 63 (52 orders).
/// Small orders give the best epsilon for large budgets and large orders for small ones; when the best order is at
/// either end, <see cref="PrivacySpent.OptimalOrderAtBoundary"/> says so and a wider grid may give a smaller epsilon.
/// </remarks>
public static class RdpOrders
{
    /// <summary>The default grid: 1.1..10.9 step 0.1, then 12..63.</summary>
    public static IReadOnlyList<double> Default { get; } = MakeDefault();

    private static double[] MakeDefault()
    {
        var orders = new List<double>(151);
        // (10 + k) / 10 is the double nearest the decimal 1.k; 1 + k / 10.0 can be one ulp off.
        for (var tenths = 1; tenths < 100; tenths++) orders.Add((10 + tenths) / 10.0);
        for (var order = 12; order < 64; order++) orders.Add(order);
        return [.. orders];
    }
}
