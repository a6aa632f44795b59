using System.Text;
using Pipelines.Reporting;

namespace Pipelines.Experiments;

/// <summary>The experiments' CSV tables as text, written by <see cref="MetricsCsv"/> (CsvHelper): one column per property of the row type.</summary>
internal static class ExperimentCsv
{
    /// <summary>A header and one line per row (invariant culture, shortest round-trip doubles, <c>\n</c> line ends).</summary>
    public static string Of<TRow>(IEnumerable<TRow> rows)
    {
        using var stream = new MemoryStream();
        MetricsCsv.Write(stream, rows);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
