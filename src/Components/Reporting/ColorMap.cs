namespace Pipelines.Components.Reporting;

/// <summary>Colour scales for heat maps.</summary>
public enum ColorMap
{
    /// <summary>Perceptually uniform dark purple → blue → green → yellow (matplotlib's viridis); readable in grey scale.</summary>
    Viridis,
    /// <summary>Diverging blue → white → red, for signed values around a midpoint (ColorBrewer RdBu, reversed).</summary>
    BlueWhiteRed,
}

/// <summary>Colours used by the SVG writers.</summary>
internal static class SvgColors
{
    /// <summary>Ten distinct series colours (Tableau 10); later series reuse them with a dash pattern.</summary>
    public static readonly string[] Series =
        ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

    /// <summary>Dash patterns for the 1st, 2nd, ... round through <see cref="Series"/>.</summary>
    public static readonly string[] Dashes = ["", "6 3", "2 2", "8 3 2 3"];

    /// <summary>Fill for cells without a finite value.</summary>
    public const string Missing = "#d9d9d9";

    private static readonly (byte R, byte G, byte B)[] ViridisStops =
    [
        (0x44, 0x01, 0x54), (0x48, 0x24, 0x75), (0x41, 0x44, 0x87), (0x35, 0x5f, 0x8d), (0x2a, 0x78, 0x8e), (0x21, 0x91, 0x8c),
        (0x22, 0xa8, 0x84), (0x44, 0xbf, 0x70), (0x7a, 0xd1, 0x51), (0xbd, 0xdf, 0x26), (0xfd, 0xe7, 0x25),
    ];

    private static readonly (byte R, byte G, byte B)[] BlueWhiteRedStops =
        [(0x21, 0x66, 0xac), (0x67, 0xa9, 0xcf), (0xf7, 0xf7, 0xf7), (0xef, 0x8a, 0x62), (0xb2, 0x18, 0x2b)];

    /// <summary>The colour at <paramref name="fraction"/> (clamped to [0, 1]) along the map, as <c>#rrggbb</c>.</summary>
    public static string Interpolate(ColorMap map, double fraction)
    {
        var (red, green, blue) = InterpolateComponents(map, fraction);
        return $"#{red:x2}{green:x2}{blue:x2}";
    }

    /// <summary>Relative luminance in [0, 1] of the colour at <paramref name="fraction"/> (for choosing text colour).</summary>
    public static double Luminance(ColorMap map, double fraction)
    {
        var (red, green, blue) = InterpolateComponents(map, fraction);
        return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255.0;
    }

    private static (int R, int G, int B) InterpolateComponents(ColorMap map, double fraction)
    {
        var stops = map switch
        {
            ColorMap.Viridis => ViridisStops,
            ColorMap.BlueWhiteRed => BlueWhiteRedStops,
            _ => throw new ArgumentOutOfRangeException(nameof(map), map, "Unknown colour map."),
        };
        var position = Math.Clamp(double.IsNaN(fraction) ? 0 : fraction, 0, 1) * (stops.Length - 1);
        var lower = Math.Min((int)position, stops.Length - 2);
        var weight = position - lower;
        var (a, b) = (stops[lower], stops[lower + 1]);
        return (Mix(a.R, b.R, weight), Mix(a.G, b.G, weight), Mix(a.B, b.B, weight));
    }

    private static int Mix(byte from, byte to, double weight) => (int)Math.Round(from + (to - from) * weight);
}
