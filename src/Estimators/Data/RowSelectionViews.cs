namespace Pipelines.Data;

/// <summary>Rows [<c>skip</c>, <c>skip + take</c>) of a source view, read lazily; the source is not copied.</summary>
internal sealed class RowRangeDataView(IDataView source, long skip, long take) : IDataView
{
    public DataViewSchema Schema => source.Schema;

    public long? GetRowCount() =>
        source.GetRowCount() is { } count ? Math.Clamp(count - skip, 0, take) : null;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded) =>
        new SelectionCursor(source.GetRowCursor(columnsNeeded), sourcePosition => sourcePosition >= skip, stopAfter: take);
}

/// <summary>The rows of a source view whose position is marked in a mask, in source order, read lazily.</summary>
internal sealed class RowMaskDataView(IDataView source, bool[] keep) : IDataView
{
    private readonly long keptCount = keep.LongCount(kept => kept);

    public DataViewSchema Schema => source.Schema;

    public long? GetRowCount() => keptCount;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded) =>
        new SelectionCursor(source.GetRowCursor(columnsNeeded), sourcePosition => sourcePosition < keep.Length && keep[sourcePosition], stopAfter: keptCount);
}

/// <summary>A cursor that passes over the source rows <c>isSelected</c> rejects and stops after <c>stopAfter</c> rows.</summary>
internal sealed class SelectionCursor(DataViewRowCursor source, Func<long, bool> isSelected, long stopAfter) : DataViewRowCursor
{
    private long position = -1;
    private bool done;

    public override long Position => position;

    public override DataViewSchema Schema => source.Schema;

    public override bool IsColumnActive(DataViewSchema.Column column) => source.IsColumnActive(column);

    public override bool MoveNext()
    {
        if (!done && position + 1 < stopAfter)
        {
            while (source.MoveNext())
            {
                if (!isSelected(source.Position)) continue;
                position++;
                return true;
            }
        }

        done = true;
        position = -1;
        return false;
    }

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        var getter = source.GetGetter<TValue>(column);
        return (ref TValue value) =>
        {
            CursorChecks.CheckPositioned(position);
            getter(ref value);
        };
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) source.Dispose();
        base.Dispose(disposing);
    }
}
