using System.Globalization;
using System.Text;

namespace Pipelines.Components.Experiments;

/// <summary>Builds the small CSV tables the experiments report: a header, then rows of numbers and names.</summary>
/// <remarks>
/// Invariant culture; doubles as the shortest text that reads back to the same value (<c>R</c>), so NaN and
/// infinities appear as <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c>; null as an empty field; lines end with
/// <c>\n</c>. Text fields are quoted (RFC 4180) only when they hold a comma, a quote or a line break.
/// </remarks>
internal sealed class ExperimentCsv
{
    private readonly StringBuilder text = new();
    private readonly int columnCount;

    public ExperimentCsv(params string[] header)
    {
        columnCount = header.Length;
        AppendRow(header);
    }

    public ExperimentCsv Row(params object?[] fields)
    {
        if (fields.Length != columnCount) throw new ArgumentException($"A row has {fields.Length} fields for {columnCount} columns.", nameof(fields));
        AppendRow(fields.Select(Format));
        return this;
    }

    public override string ToString() => text.ToString();

    private void AppendRow(IEnumerable<string> fields)
    {
        text.AppendJoin(',', fields.Select(Quote));
        text.Append('\n');
    }

    private static string Format(object? field) => field switch
    {
        null => "",
        double number => number.ToString("R", CultureInfo.InvariantCulture),
        float number => number.ToString("R", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => field.ToString() ?? "",
    };

    private static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
