using Pipelines.Data;
using Pipelines.Data.Mapping;

namespace Pipelines;

/// <summary>Loading, converting and splitting data (<c>context.Data</c>), as ML.NET's <c>DataOperationsCatalog</c>.</summary>
public sealed class DataOperationsCatalog : PipelineCatalog
{
    internal DataOperationsCatalog(PipelineContext context) : base(context, "Data") { }

    /// <summary>
    /// Loads objects into an in-memory view: each public field or property becomes a column, named by
    /// <see cref="ColumnNameAttribute"/> or the member's name, typed by the member (float, double, int, uint, long,
    /// bool, string, arrays of them; <see cref="VectorTypeAttribute"/> fixes a vector's size, <see cref="KeyTypeAttribute"/>
    /// makes a uint a key).
    /// </summary>
    /// <remarks>Unlike ML.NET, which streams the enumerable, the data is copied once, so later changes to the objects are not seen.</remarks>
    /// <exception cref="InvalidOperationException">A member's type maps to no column type.</exception>
    /// <exception cref="ArgumentException">A value does not fit its column (vector length, key range), or an element is null.</exception>
    public IDataView LoadFromEnumerable<TRow>(IEnumerable<TRow> data)
        where TRow : class
    {
        ArgumentNullException.ThrowIfNull(data);
        return Load(data.ToList(), columnTypes: null);
    }

    /// <summary>Loads <paramref name="rows"/>, with the column types of <paramref name="columnTypes"/> (by column name) where given.</summary>
    private static InMemoryDataView Load<TRow>(List<TRow> rows, IReadOnlyDictionary<string, DataViewType>? columnTypes)
        where TRow : class
    {
        var nullIndex = rows.IndexOf(null!);
        if (nullIndex >= 0) throw new ArgumentException($"Element {nullIndex} of the data is null.", "data");
        var builder = new InMemoryDataView.Builder();
        foreach (var binding in MemberBinding<TRow>.For(member => member.CanRead))
            binding.AddColumn(builder, rows, columnTypes?.GetValueOrDefault(binding.Member.ColumnName));
        return builder.ToDataView();
    }

    /// <summary>
    /// Loads a delimited text file (TSV by default) through CsvHelper into an in-memory view. Each column member of
    /// <typeparamref name="TRow"/> needs a <see cref="LoadColumnAttribute"/> naming its field(s); an array member
    /// reads its fields as a vector whose fixed size is the number of fields.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="separatorChar">The field separator.</param>
    /// <param name="hasHeader">Whether the first line is a header (skipped).</param>
    /// <param name="allowQuoting">Whether fields may be quoted (RFC 4180); when false, quotes are ordinary text.</param>
    /// <param name="trimWhitespace">Whether spaces and tabs around fields are removed.</param>
    /// <remarks>An empty float or double field reads as NaN (a missing value, as in ML.NET); an empty field of another number type is an error.</remarks>
    /// <exception cref="InvalidOperationException">A member has no <see cref="LoadColumnAttribute"/>.</exception>
    /// <exception cref="InvalidDataException">A field is missing or does not parse; the message names the line and field.</exception>
    public IDataView LoadFromTextFile<TRow>(string path, char separatorChar = '\t', bool hasHeader = false, bool allowQuoting = false, bool trimWhitespace = false)
        where TRow : class, new()
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (rows, columnTypes) = TextFileLoader.Read<TRow>(path, separatorChar, hasHeader, allowQuoting, trimWhitespace);
        return Load(rows, columnTypes);
    }

    /// <summary>
    /// Reads a view back into objects, lazily: each writable member of <typeparamref name="TRow"/> is filled from the
    /// column of its name.
    /// </summary>
    /// <param name="data">The view.</param>
    /// <param name="reuseRowObject">Whether to fill one object again for every row (faster; copy what you keep).</param>
    /// <param name="ignoreMissingColumns">Whether members without a column are left unset instead of failing.</param>
    /// <exception cref="SchemaMismatchException">A member's column is of the wrong type, or missing and <paramref name="ignoreMissingColumns"/> is false (thrown when enumeration starts).</exception>
    public IEnumerable<TRow> CreateEnumerable<TRow>(IDataView data, bool reuseRowObject, bool ignoreMissingColumns = false)
        where TRow : class, new()
    {
        ArgumentNullException.ThrowIfNull(data);
        var bindings = DataClassBinding.BindWritable<TRow>(data.Schema, ignoreMissingColumns);
        return Enumerate(data, bindings, reuseRowObject);
    }

    private static IEnumerable<TRow> Enumerate<TRow>(IDataView data, IReadOnlyList<(MemberBinding<TRow> Binding, DataViewSchema.Column Column)> bindings, bool reuseRowObject)
        where TRow : class, new()
    {
        using var cursor = data.GetRowCursor(bindings.Select(pair => pair.Column));
        var assigners = bindings.Select(pair => pair.Binding.CreateAssigner(cursor, pair.Column)).ToArray();
        TRow? reused = null;
        while (cursor.MoveNext())
        {
            var row = reuseRowObject ? reused ??= new TRow() : new TRow();
            foreach (var assign in assigners) assign(row);
            yield return row;
        }
    }

    /// <summary>
    /// Splits <paramref name="data"/> into a train set and a test set of <c>round(rowCount * testFraction)</c> rows chosen
    /// at random; both keep the source order and are read lazily from it.
    /// </summary>
    /// <param name="data">The data to split.</param>
    /// <param name="testFraction">The fraction of rows in the test set, in (0, 1).</param>
    /// <param name="seed">The seed of the choice; null uses <c>DeriveSeed("TrainTestSplit")</c> of this catalog.</param>
    /// <remarks>
    /// Deterministic: the same seed and row count choose the same rows. ML.NET hashes rows into the test set, so its
    /// fraction is approximate; here it is exact. ML.NET's <c>samplingKeyColumnName</c> (grouping rows) is not offered.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="testFraction"/> is not in (0, 1).</exception>
    public TrainTestData TrainTestSplit(IDataView data, double testFraction = 0.1, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!(testFraction > 0 && testFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "The test fraction must be in (0, 1).");
        var rowCount = data.GetRowCount() ?? CountRows(data);
        if (rowCount > Array.MaxLength) throw new ArgumentException($"The data has {rowCount} rows, more than a split supports.", nameof(data));
        var count = (int)rowCount;
        var order = new int[count];
        for (var index = 0; index < count; index++) order[index] = index;
        new Random(seed ?? DeriveSeed("TrainTestSplit")).Shuffle(order);
        var testCount = (int)Math.Round(count * testFraction, MidpointRounding.AwayFromZero);
        var inTest = new bool[count];
        for (var index = 0; index < testCount; index++) inTest[order[index]] = true;
        var inTrain = Array.ConvertAll(inTest, value => !value);
        return new TrainTestData(new RowMaskDataView(data, inTrain), new RowMaskDataView(data, inTest));
    }

    /// <summary>The first <paramref name="count"/> rows of <paramref name="input"/> (all of them if it has fewer), read lazily.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public IDataView TakeRows(IDataView input, long count)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return new RowRangeDataView(input, skip: 0, take: count);
    }

    /// <summary>The rows of <paramref name="input"/> after the first <paramref name="count"/>, read lazily.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public IDataView SkipRows(IDataView input, long count)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return new RowRangeDataView(input, skip: count, take: long.MaxValue);
    }

    private static long CountRows(IDataView data)
    {
        using var cursor = data.GetRowCursor([]);
        long count = 0;
        while (cursor.MoveNext()) count++;
        return count;
    }

    /// <summary>The two halves of a <see cref="TrainTestSplit"/>.</summary>
    /// <param name="TrainSet">The rows not chosen for the test set.</param>
    /// <param name="TestSet">The rows chosen for the test set.</param>
    public sealed record TrainTestData(IDataView TrainSet, IDataView TestSet);
}
