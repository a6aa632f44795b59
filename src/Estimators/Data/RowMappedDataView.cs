namespace Pipelines.Data;

/// <summary>
/// The output of a row-to-row transformer: the input's columns followed by the columns an <see cref="IRowMapper"/>
/// adds, computed as cursors move and only when read.
/// </summary>
public sealed class RowMappedDataView : IDataView
{
    private readonly IDataView input;
    private readonly IRowMapper mapper;
    private readonly int inputColumnCount;
    private readonly DataViewSchema.Column[] mapperInputs;

    /// <summary>Wraps <paramref name="input"/> with the columns <paramref name="mapper"/> adds.</summary>
    /// <exception cref="SchemaMismatchException">An input column the mapper reads is missing.</exception>
    public RowMappedDataView(IDataView input, IRowMapper mapper)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(mapper);
        this.input = input;
        this.mapper = mapper;
        inputColumnCount = input.Schema.Count;
        mapperInputs = [.. mapper.InputColumnNames.Select(name => SchemaValidation.RequireColumn(input.Schema, name, ColumnRequirement.Any))];
        Schema = CreateSchema(input.Schema, mapper.OutputColumns);
    }

    /// <inheritdoc/>
    public DataViewSchema Schema { get; }

    /// <summary>The schema of <paramref name="inputSchema"/> followed by <paramref name="addedColumns"/>.</summary>
    public static DataViewSchema CreateSchema(DataViewSchema inputSchema, IEnumerable<DataViewSchema.DetachedColumn> addedColumns)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentNullException.ThrowIfNull(addedColumns);
        var builder = new DataViewSchema.Builder().AddColumns(inputSchema);
        foreach (var column in addedColumns) builder.AddColumn(column.Name, column.Type);
        return builder.ToSchema();
    }

    /// <inheritdoc/>
    public long? GetRowCount() => input.GetRowCount();

    /// <inheritdoc/>
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded)
    {
        var active = CursorChecks.ActiveColumns(Schema, columnsNeeded);
        var anyOutput = active.AsSpan(inputColumnCount).Contains(true);
        var inputActive = new List<DataViewSchema.Column>();
        for (var index = 0; index < inputColumnCount; index++)
            if (active[index]) inputActive.Add(input.Schema[index]);
        if (anyOutput) inputActive.AddRange(mapperInputs);
        var inputCursor = input.GetRowCursor(inputActive.Distinct());
        try
        {
            var getters = anyOutput ? mapper.CreateGetters(inputCursor, output => active[inputColumnCount + output]) : null;
            return new Cursor(this, inputCursor, active, getters);
        }
        catch
        {
            inputCursor.Dispose();
            throw;
        }
    }

    private sealed class Cursor(RowMappedDataView view, DataViewRowCursor input, bool[] active, Delegate?[]? getters) : DataViewRowCursor
    {
        public override long Position => input.Position;

        public override DataViewSchema Schema => view.Schema;

        public override bool MoveNext() => input.MoveNext();

        public override bool IsColumnActive(DataViewSchema.Column column)
        {
            CursorChecks.CheckColumn(view.Schema, column);
            return active[column.Index];
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            CursorChecks.CheckGetter<TValue>(this, column);
            if (column.Index < view.inputColumnCount)
                return input.GetGetter<TValue>(input.Schema[column.Index]);
            var output = column.Index - view.inputColumnCount;
            return getters?[output] as ValueGetter<TValue>
                ?? throw new InvalidOperationException(
                    $"The row mapper {view.mapper.GetType().Name} gave no ValueGetter<{CursorChecks.Describe(typeof(TValue))}> for its output column '{column.Name}'.");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) input.Dispose();
            base.Dispose(disposing);
        }
    }
}
