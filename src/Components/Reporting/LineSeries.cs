namespace Pipelines.Components.Reporting;

/// <summary>One named line of an <see cref="SvgLineChart"/>: points (X[i], Y[i]) joined in order.</summary>
public sealed record LineSeries
{
    /// <summary>Creates a series (the coordinates are copied).</summary>
    /// <exception cref="ArgumentException">The coordinate lists have different lengths.</exception>
    public LineSeries(string name, IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count) throw new ArgumentException($"Series '{name}' has {x.Count} x values but {y.Count} y values.", nameof(y));
        Name = name;
        X = x.ToArray();
        Y = y.ToArray();
    }

    /// <summary>The name shown in the legend.</summary>
    public string Name { get; }

    /// <summary>The x coordinates.</summary>
    public IReadOnlyList<double> X { get; }

    /// <summary>The y coordinates; a point with a non-finite coordinate is skipped and breaks the line.</summary>
    public IReadOnlyList<double> Y { get; }
}
