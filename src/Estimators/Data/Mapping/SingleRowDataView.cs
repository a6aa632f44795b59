namespace Pipelines.Data.Mapping;

/// <summary>
/// A view of one row: the object in <see cref="Current"/>, read through the members of <typeparamref name="TRow"/>.
/// What a prediction engine feeds its transformer, one example at a time.
/// </summary>
internal sealed class SingleRowDataView<TRow> : IDataView
    where TRow : class
{
    private readonly IReadOnlyList<MemberBinding<TRow>> bindings;

    public SingleRowDataView()
    {
        bindings = MemberBinding<TRow>.For(member => member.CanRead);
        Schema = DataClassBinding.SchemaOf(bindings);
    }

    /// <summary>The row the next cursor reads.</summary>
    public TRow? Current { get; set; }

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => 1;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded) =>
        new Cursor(this, CursorChecks.ActiveColumns(Schema, columnsNeeded), Current ?? throw new InvalidOperationException("No current row."));

    private sealed class Cursor(SingleRowDataView<TRow> view, bool[] active, TRow row) : DataViewRowCursor
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
            if (!done && position < 0)
            {
                position = 0;
                done = true;
                return true;
            }

            done = true;
            position = -1;
            return false;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            CursorChecks.CheckGetter<TValue>(this, column);
            var getter = (ValueGetter<TValue>)view.bindings[column.Index].CreateGetter(() => row, column.Name);
            return (ref TValue value) =>
            {
                CursorChecks.CheckPositioned(position);
                getter(ref value);
            };
        }
    }
}
