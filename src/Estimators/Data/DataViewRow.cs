namespace Pipelines;

/// <summary>Reads the value of one column of the current row into <paramref name="value"/>.</summary>
/// <remarks>
/// As in ML.NET, the value is passed by reference so that a caller can reuse it across rows. Memory a getter hands
/// out (text, vectors) is valid until the cursor moves; copy it to keep it.
/// </remarks>
public delegate void ValueGetter<TValue>(ref TValue value);

/// <summary>A row of an <see cref="IDataView"/>: typed getters for its active columns.</summary>
/// <remarks>Mirrors ML.NET's <c>DataViewRow</c> (without batches and row ids).</remarks>
public abstract class DataViewRow : IDisposable
{
    /// <summary>The row's position: -1 before the first row and after the last, then 0, 1, 2...</summary>
    public abstract long Position { get; }

    /// <summary>The schema of the view this row belongs to.</summary>
    public abstract DataViewSchema Schema { get; }

    /// <summary>Whether <paramref name="column"/> can be read (the cursor was opened with it among the columns needed).</summary>
    public abstract bool IsColumnActive(DataViewSchema.Column column);

    /// <summary>A getter for <paramref name="column"/>, whose raw type must be <typeparamref name="TValue"/>.</summary>
    /// <remarks>Call the getter only while the row is positioned (<see cref="Position"/> at least 0).</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="column"/> is not a column of <see cref="Schema"/>.</exception>
    /// <exception cref="InvalidOperationException">The column is not active, or its raw type is not <typeparamref name="TValue"/>.</exception>
    public abstract ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column);

    /// <summary>Releases the row's resources (and those of any cursor it reads from).</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources; <paramref name="disposing"/> is false when called from a finalizer.</summary>
    protected virtual void Dispose(bool disposing) { }
}

/// <summary>A forward-only cursor over the rows of an <see cref="IDataView"/>.</summary>
/// <remarks>Mirrors ML.NET's <c>DataViewRowCursor</c>. A cursor is used by one thread at a time.</remarks>
public abstract class DataViewRowCursor : DataViewRow
{
    /// <summary>Moves to the next row; false (and <see cref="DataViewRow.Position"/> -1) once past the last one.</summary>
    public abstract bool MoveNext();
}
