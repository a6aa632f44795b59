namespace Pipelines.Components.Reporting;

/// <summary>Titles, axis scales and size of an <see cref="SvgLineChart"/>; sizes are checked when set.</summary>
public sealed record LineChartOptions
{
    /// <summary>Title above the plot (default none).</summary>
    public string Title { get; init => field = value ?? throw new ArgumentNullException(nameof(Title)); } = "";

    /// <summary>Label under the x axis (default none).</summary>
    public string XAxisLabel { get; init => field = value ?? throw new ArgumentNullException(nameof(XAxisLabel)); } = "";

    /// <summary>Label beside the y axis (default none).</summary>
    public string YAxisLabel { get; init => field = value ?? throw new ArgumentNullException(nameof(YAxisLabel)); } = "";

    /// <summary>Scale of the x axis (default linear); logarithmic requires positive x values.</summary>
    public AxisScale XScale { get; init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(XScale), value, "Unknown axis scale."); } = AxisScale.Linear;

    /// <summary>Scale of the y axis (default linear); logarithmic requires positive y values.</summary>
    public AxisScale YScale { get; init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(YScale), value, "Unknown axis scale."); } = AxisScale.Linear;

    /// <summary>Width in pixels, legend included (default 800).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [300, 20000].</exception>
    public int Width
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 300, nameof(Width));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 20_000, nameof(Width));
            field = value;
        }
    } = 800;

    /// <summary>Height in pixels (default 480).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [200, 20000].</exception>
    public int Height
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 200, nameof(Height));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 20_000, nameof(Height));
            field = value;
        }
    } = 480;
}
