using System.Globalization;
using System.Text;

namespace Pipelines.Components.Reporting;

/// <summary>Builds an SVG document as text: escaped strings, invariant numbers with two decimals at most.</summary>
internal sealed class SvgWriter
{
    private const string FontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif";
    private readonly StringBuilder builder = new();

    public SvgWriter(double width, double height)
    {
        builder.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Number(width)}\" height=\"{Number(height)}\" viewBox=\"0 0 {Number(width)} {Number(height)}\" font-family=\"{FontFamily}\">\n");
        Rectangle(0, 0, width, height, "#ffffff", "background");
    }

    /// <summary>An invariant number, rounded to two decimals, without trailing zeros.</summary>
    public static string Number(double value) => Math.Round(value, 2).ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>Text safe inside an XML element or a double-quoted attribute (characters XML 1.0 forbids become U+FFFD).</summary>
    public static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        for (var index = 0; index < text.Length; index++)
        {
            var character = text[index];
            switch (character)
            {
                case '<': escaped.Append("&lt;"); break;
                case '>': escaped.Append("&gt;"); break;
                case '&': escaped.Append("&amp;"); break;
                case '"': escaped.Append("&quot;"); break;
                case '\'': escaped.Append("&apos;"); break;
                case '\t' or '\n' or '\r': escaped.Append(character); break;
                default:
                    if (char.IsHighSurrogate(character) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
                    {
                        escaped.Append(character).Append(text[++index]);
                    }
                    else if (character < 0x20 || char.IsSurrogate(character) || character is '\uFFFE' or '\uFFFF')
                    {
                        escaped.Append('\uFFFD');
                    }
                    else
                    {
                        escaped.Append(character);
                    }

                    break;
            }
        }

        return escaped.ToString();
    }

    public void Raw(string markup) => builder.Append(markup).Append('\n');

    public void Rectangle(double x, double y, double width, double height, string fill, string cssClass, string stroke = "none") =>
        builder.Append($"<rect class=\"{cssClass}\" x=\"{Number(x)}\" y=\"{Number(y)}\" width=\"{Number(width)}\" height=\"{Number(height)}\" fill=\"{fill}\" stroke=\"{stroke}\"/>\n");

    public void Line(double x1, double y1, double x2, double y2, string stroke, double strokeWidth, string cssClass, string dash = "") =>
        builder.Append($"<line class=\"{cssClass}\" x1=\"{Number(x1)}\" y1=\"{Number(y1)}\" x2=\"{Number(x2)}\" y2=\"{Number(y2)}\" stroke=\"{stroke}\" stroke-width=\"{Number(strokeWidth)}\"{Dash(dash)}/>\n");

    public void Circle(double x, double y, double radius, string fill, string cssClass) =>
        builder.Append($"<circle class=\"{cssClass}\" cx=\"{Number(x)}\" cy=\"{Number(y)}\" r=\"{Number(radius)}\" fill=\"{fill}\"/>\n");

    public void Path(string data, string stroke, double strokeWidth, string cssClass, string dash = "") =>
        builder.Append($"<path class=\"{cssClass}\" d=\"{data}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{Number(strokeWidth)}\" stroke-linejoin=\"round\"{Dash(dash)}/>\n");

    /// <summary>A text element; <paramref name="anchor"/> is start, middle or end; <paramref name="rotation"/> in degrees about (x, y).</summary>
    public void Text(double x, double y, string text, string cssClass, double fontSize = 12, string anchor = "middle", string fill = "#222222", bool bold = false, double rotation = 0)
    {
        var transform = rotation == 0 ? "" : $" transform=\"rotate({Number(rotation)} {Number(x)} {Number(y)})\"";
        var weight = bold ? " font-weight=\"bold\"" : "";
        builder.Append($"<text class=\"{cssClass}\" x=\"{Number(x)}\" y=\"{Number(y)}\" font-size=\"{Number(fontSize)}\" text-anchor=\"{anchor}\" fill=\"{fill}\"{weight}{transform}>{Escape(text)}</text>\n");
    }

    /// <summary>Rough width of <paramref name="text"/> in pixels (no font metrics: 0.6 em per character).</summary>
    public static double EstimateWidth(string text, double fontSize) => text.Length * fontSize * 0.6;

    public override string ToString() => builder + "</svg>\n";

    private static string Dash(string dash) => dash.Length == 0 ? "" : $" stroke-dasharray=\"{dash}\"";
}
