namespace Pipelines.Components.Reporting;

/// <summary>Titles, colour scale and cell size of an <see cref="SvgHeatMap"/>; each value is checked when set.</summary>
public sealed record HeatMapOptions
{
    /// <summary>Title above the grid (default none).</summary>
    public string Title { get; init => field = value ?? throw new ArgumentNullException(nameof(Title)); } = "";

    /// <summary>Label of the rows, beside the row labels (default none).</summary>
    public string RowAxisLabel { get; init => field = value ?? throw new ArgumentNullException(nameof(RowAxisLabel)); } = "";

    /// <summary>Label of the columns, under the column labels (default none).</summary>
    public string ColumnAxisLabel { get; init => field = value ?? throw new ArgumentNullException(nameof(ColumnAxisLabel)); } = "";

    /// <summary>Title of the colour legend, e.g. "final loss" (default none).</summary>
    public string ValueLabel { get; init => field = value ?? throw new ArgumentNullException(nameof(ValueLabel)); } = "";

    /// <summary>The colours (default <see cref="ColorMap.Viridis"/>).</summary>
    public ColorMap ColorMap { get; init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(ColorMap), value, "Unknown colour map."); } = ColorMap.Viridis;

    /// <summary>How values map to colours (default linear); logarithmic requires positive values.</summary>
    public AxisScale ValueScale { get; init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(ValueScale), value, "Unknown scale."); } = AxisScale.Linear;

    /// <summary>Value at the low end of the colours (default: the smallest finite value); lower values are clamped.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not finite.</exception>
    public double? Minimum { get; init => field = value is { } number && !double.IsFinite(number) ? throw new ArgumentOutOfRangeException(nameof(Minimum), value, "Must be finite.") : value; }

    /// <summary>Value at the high end of the colours (default: the largest finite value); higher values are clamped.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not finite.</exception>
    public double? Maximum { get; init => field = value is { } number && !double.IsFinite(number) ? throw new ArgumentOutOfRangeException(nameof(Maximum), value, "Must be finite.") : value; }

    /// <summary>Whether to print each cell's value in the cell (default false).</summary>
    public bool ShowValues { get; init; }

    /// <summary>Invariant .NET format string for printed values (default <c>G3</c>).</summary>
    public string ValueFormat { get; init => field = string.IsNullOrEmpty(value) ? throw new ArgumentException("A format string is required.", nameof(ValueFormat)) : value; } = "G3";

    /// <summary>Cell width in pixels (default 64).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [4, 400].</exception>
    public int CellWidth
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 4, nameof(CellWidth));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 400, nameof(CellWidth));
            field = value;
        }
    } = 64;

    /// <summary>Cell height in pixels (default 36).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [4, 400].</exception>
    public int CellHeight
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 4, nameof(CellHeight));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 400, nameof(CellHeight));
            field = value;
        }
    } = 36;
}
