namespace Pipelines.Data;

/// <summary>A view over columns held in memory, one array per column: what loaded data becomes.</summary>
/// <remarks>Immutable once built; any number of cursors may read it concurrently.</remarks>
public sealed class InMemoryDataView : IDataView
{
    private readonly Array[] columns;
    private readonly long rowCount;

    private InMemoryDataView(DataViewSchema schema, Array[] columns, long rowCount)
    {
        Schema = schema;
        this.columns = columns;
        this.rowCount = rowCount;
    }

    /// <inheritdoc/>
    public DataViewSchema Schema { get; }

    /// <summary>The number of rows (always known).</summary>
    public long RowCount => rowCount;

    /// <inheritdoc/>
    public long? GetRowCount() => rowCount;

    /// <inheritdoc/>
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded) =>
        new Cursor(this, CursorChecks.ActiveColumns(Schema, columnsNeeded));

    /// <summary>Builds an <see cref="InMemoryDataView"/> column by column; every column must have the same number of rows.</summary>
    public sealed class Builder
    {
        private readonly DataViewSchema.Builder schema = new();
        private readonly List<Array> columns = [];
        private long? rowCount;

        /// <summary>Adds a column holding a copy of <paramref name="values"/>.</summary>
        /// <typeparam name="TValue">The raw type of <paramref name="type"/>.</typeparam>
        /// <exception cref="ArgumentException">
        /// <typeparamref name="TValue"/> is not the raw type of <paramref name="type"/>, the row count differs from the
        /// columns added before, or a value does not fit the type (vector length, key range).
        /// </exception>
        public Builder AddColumn<TValue>(string name, DataViewType type, IReadOnlyList<TValue> values)
        {
            ArgumentNullException.ThrowIfNull(type);
            ArgumentNullException.ThrowIfNull(values);
            if (type.RawType != typeof(TValue))
                throw new ArgumentException(
                    $"Column '{name}' of type {type} holds {CursorChecks.Describe(type.RawType)} values, not {CursorChecks.Describe(typeof(TValue))}.", nameof(values));
            if (rowCount is { } count && count != values.Count)
                throw new ArgumentException($"Column '{name}' has {values.Count} rows; the columns before it have {count}.", nameof(values));
            var copy = new TValue[values.Count];
            for (var row = 0; row < copy.Length; row++)
            {
                copy[row] = values[row];
                ValueChecks.Check(type, copy[row], name, row);
            }

            schema.AddColumn(name, type);
            columns.Add(copy);
            rowCount = copy.Length;
            return this;
        }

        /// <summary>Creates the view (with no columns, it has no rows).</summary>
        public InMemoryDataView ToDataView() => new(schema.ToSchema(), [.. columns], rowCount ?? 0);
    }

    private sealed class Cursor(InMemoryDataView view, bool[] active) : DataViewRowCursor
    {
        private long position = -1;
        private bool done;

        public override long Position => position;

        public override DataViewSchema Schema => view.Schema;

        public override bool IsColumnActive(DataViewSchema.Column column)
        {
            CursorChecks.CheckColumn(view.Schema, column);
            return active[column.Index];
        }

        public override bool MoveNext()
        {
            if (done) return false;
            if (position + 1 < view.rowCount)
            {
                position++;
                return true;
            }

            done = true;
            position = -1;
            return false;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            CursorChecks.CheckGetter<TValue>(this, column);
            var values = (TValue[])view.columns[column.Index];
            return (ref TValue value) =>
            {
                CursorChecks.CheckPositioned(position);
                value = values[position];
            };
        }
    }
}
