namespace Pipelines;

/// <summary>
/// A table read row by row through cursors: the data that estimators fit on and transformers transform.
/// </summary>
/// <remarks>
/// Mirrors ML.NET's <c>IDataView</c>. Views are immutable and lazy: a transformer's output view computes its added
/// columns as a cursor moves, only for the columns the cursor was asked for; nothing is materialised. Any number of
/// cursors may be open at once, each on its own thread. ML.NET's shuffling cursors (a <c>Random</c> argument and
/// <c>GetRowCursorSet</c>) are left out: an adapter passes <c>null</c> for the random source.
/// </remarks>
public interface IDataView
{
    /// <summary>The columns of the view.</summary>
    DataViewSchema Schema { get; }

    /// <summary>The number of rows, or null when it is not known without a pass over the data.</summary>
    long? GetRowCount();

    /// <summary>Opens a cursor positioned before the first row, able to read <paramref name="columnsNeeded"/>.</summary>
    /// <param name="columnsNeeded">Columns of <see cref="Schema"/> the caller will read; others may be skipped.</param>
    /// <exception cref="ArgumentOutOfRangeException">A column does not belong to <see cref="Schema"/>.</exception>
    DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded);
}
