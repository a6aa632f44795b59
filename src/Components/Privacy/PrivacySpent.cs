namespace Pipelines.Components.Privacy;

/// <summary>Where the best Renyi order lies in the grid searched.</summary>
public enum OrderBoundary
{
    /// <summary>Strictly inside the grid (or no order gave a finite epsilon): the grid was wide enough.</summary>
    None,

    /// <summary>The smallest order: a grid reaching closer to 1 may give a smaller epsilon.</summary>
    Smallest,

    /// <summary>The largest order: a grid with larger orders may give a smaller epsilon.</summary>
    Largest,
}

/// <summary>An (epsilon, delta) guarantee derived from an RDP curve.</summary>
/// <param name="Epsilon">The smallest epsilon over the orders (+infinity when no order gives a finite one).</param>
/// <param name="Delta">The delta it holds for.</param>
/// <param name="Order">The Renyi order that gave <paramref name="Epsilon"/> (NaN when it is infinite).</param>
/// <param name="Boundary">Whether <paramref name="Order"/> is the grid's first or last order.</param>
/// <param name="Conversion">The conversion used.</param>
public sealed record PrivacySpent(double Epsilon, double Delta, double Order, OrderBoundary Boundary, EpsilonConversion Conversion)
{
    /// <summary>Whether the optimum sits at either end of the orders, so the grid may be too narrow (the warning of Opacus and TF-Privacy).</summary>
    public bool OptimalOrderAtBoundary => Boundary != OrderBoundary.None;

    /// <summary>A one-line account, with a warning when the optimal order is at the edge of the grid.</summary>
    public override string ToString() =>
        $"epsilon = {Epsilon:G6} at delta = {Delta:G3} (order {Order:G4}, {Conversion})"
        + (OptimalOrderAtBoundary ? $"; warning: the optimal order is the {Boundary.ToString().ToLowerInvariant()} of the grid, widen it" : string.Empty);
}
