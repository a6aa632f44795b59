using System.Text;
using CsvHelper;

namespace Pipelines.Reporting;

/// <summary>Writes, appends and reads lists of immutable metric records (any record or class type) as CSV.</summary>
/// <remarks>
/// One column per public property, named after it, in declaration order; one row per record. Values are written
/// in the invariant culture: floating-point numbers as the shortest text that reads back to the same bits
/// (<c>NaN</c>, <c>Infinity</c> and <c>-Infinity</c> included), dates in ISO 8601 round-trip form (<c>O</c>),
/// time spans as <c>c</c>, enums by name, booleans as <c>True</c>/<c>False</c>, null as an empty field (so a
/// null string reads back as empty). Quoting follows RFC 4180 (CsvHelper), lines end with <c>\n</c>, UTF-8
/// without byte order mark.
/// <para>
/// Records are rebuilt through the constructor whose parameters match properties by name and type (positional C#
/// records, F# records), then by setting any other public settable property. Get-only computed properties are
/// written but not read back.
/// </para>
/// <example><code>
/// public sealed record EpochMetrics(int Epoch, double TrainLoss, double ValidationLoss, TimeSpan Elapsed);
/// MetricsCsv.Append("runs/metrics.csv", [new EpochMetrics(3, 2.41, 2.57, elapsed)]);
/// var history = MetricsCsv.Read&lt;EpochMetrics&gt;("runs/metrics.csv");
/// </code></example>
/// </remarks>
public static class MetricsCsv
{
    private static readonly CsvWriterOptions WriterOptions = CsvWriterOptions.Default with
    {
        NewLine = "\n",
        Injection = CsvInjection.None,
        Separator = ',',
    };

    private static readonly CsvReaderOptions ReaderOptions = CsvReaderOptions.Default with { Separator = ',' };

    /// <summary>How long <see cref="Append{TRecord}"/> and <see cref="Read{TRecord}(string)"/> wait for another writer to finish.</summary>
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Writes a header and the records to <paramref name="path"/>, replacing the file only once the new content is complete.</summary>
    /// <exception cref="NotSupportedException">A property's type has no CSV form, or the type cannot be rebuilt from its properties.</exception>
    public static void Write<TRecord>(string path, IEnumerable<TRecord> records)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(records);
        var temporaryPath = path + ".tmp";
        using (var stream = new FileStream(temporaryPath, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            Write(stream, records);
        }

        File.Move(temporaryPath, path, overwrite: true);
    }

    /// <summary>Writes a header and the records to <paramref name="stream"/> (left open).</summary>
    /// <exception cref="NotSupportedException">A property's type has no CSV form, or the type cannot be rebuilt from its properties.</exception>
    public static void Write<TRecord>(Stream stream, IEnumerable<TRecord> records)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(records);
        var layout = new MetricsCsvLayout<TRecord>();
        using var writer = CsvWriter.Create(stream, WriterOptions, leaveOpen: true);
        writer.WriteHeader(layout.Header);
        foreach (var record in records) writer.WriteRecord(layout.Format(record));
    }

    /// <summary>
    /// Appends the records to <paramref name="path"/>, creating it with a header if it does not exist or is empty.
    /// The file is locked against other writers (threads or processes using this class) while appending, and the
    /// new rows reach the disk before this returns.
    /// </summary>
    /// <exception cref="InvalidDataException">The existing file's header differs from the record type's columns.</exception>
    /// <exception cref="IOException">The file stayed locked by another writer for 30 seconds.</exception>
    /// <exception cref="NotSupportedException">A property's type has no CSV form, or the type cannot be rebuilt from its properties.</exception>
    public static void Append<TRecord>(string path, IEnumerable<TRecord> records)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(records);
        var layout = new MetricsCsvLayout<TRecord>();
        var rows = records.Select(layout.Format).ToArray();
        using var stream = OpenLocked(path, FileMode.OpenOrCreate, FileAccess.ReadWrite);
        var isNew = stream.Length == 0;
        if (!isNew)
        {
            CheckHeader(stream, layout.Header, path);
            stream.Seek(-1, SeekOrigin.End);
            var endsWithNewLine = stream.ReadByte() == '\n';
            stream.Seek(0, SeekOrigin.End);
            if (!endsWithNewLine) stream.WriteByte((byte)'\n');
        }

        using (var writer = CsvWriter.Create(stream, WriterOptions, leaveOpen: true))
        {
            if (isNew) writer.WriteHeader(layout.Header);
            foreach (var row in rows) writer.WriteRecord(row);
        }

        stream.Flush(flushToDisk: true);
    }

    /// <summary>Reads every record of a file written by <see cref="Write{TRecord}(string, IEnumerable{TRecord})"/> or <see cref="Append{TRecord}"/>.</summary>
    /// <remarks>Columns are matched by name (exactly, else ignoring case); columns the type lacks are ignored.</remarks>
    /// <exception cref="InvalidDataException">A needed column is missing, or a value does not parse (the message names the row and column).</exception>
    /// <exception cref="NotSupportedException">A property's type has no CSV form, or the type cannot be rebuilt from its properties.</exception>
    public static IReadOnlyList<TRecord> Read<TRecord>(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = OpenLocked(path, FileMode.Open, FileAccess.Read);
        return Read<TRecord>(stream);
    }

    /// <summary>Reads every record from <paramref name="stream"/> (left open); see <see cref="Read{TRecord}(string)"/>.</summary>
    /// <exception cref="InvalidDataException">A needed column is missing, or a value does not parse.</exception>
    public static IReadOnlyList<TRecord> Read<TRecord>(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var layout = new MetricsCsvLayout<TRecord>();
        using var reader = CsvReader.Create(stream, ReaderOptions, leaveOpen: true);
        var records = new List<TRecord>();
        int[]? fieldOfColumn = null;
        while (reader.Read())
        {
            fieldOfColumn ??= layout.Header.Select(name => reader.TryGetFieldIndex(name, out var field) ? field : -1).ToArray();
            records.Add(layout.Parse(column => fieldOfColumn[column] < 0 ? null : reader.GetString(fieldOfColumn[column]), reader.RowNumber));
        }

        return records;
    }

    private static void CheckHeader(Stream stream, string[] expected, string path)
    {
        string[] actual;
        using (var reader = CsvReader.Create(stream, ReaderOptions, leaveOpen: true))
        {
            reader.ReadHeader();
            actual = reader.Headers.ToArray();
        }

        if (!actual.SequenceEqual(expected, StringComparer.Ordinal))
            throw new InvalidDataException($"'{path}' has the columns [{string.Join(", ", actual)}], but the records have [{string.Join(", ", expected)}]; write them to another file.");
    }

    /// <summary>Opens the file with an exclusive (writing) or shared (reading) lock, waiting while another writer holds it.</summary>
    private static FileStream OpenLocked(string path, FileMode mode, FileAccess access)
    {
        var share = access == FileAccess.Read ? FileShare.Read : FileShare.None;
        var started = Environment.TickCount64;
        var delay = 5;
        while (true)
        {
            try
            {
                return new FileStream(path, mode, access, share);
            }
            catch (IOException exception) when (exception.GetType() == typeof(IOException) && Environment.TickCount64 - started < LockTimeout.TotalMilliseconds)
            {
                // Held by another writer (a sharing violation): wait and try again.
                Thread.Sleep(delay);
                delay = Math.Min(delay * 2, 100);
            }
        }
    }
}
