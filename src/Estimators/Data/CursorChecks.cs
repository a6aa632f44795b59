using Pipelines.Data;

namespace Pipelines;

/// <summary>The argument checks every cursor makes, with the same messages everywhere.</summary>
internal static class CursorChecks
{
    /// <summary>Throws unless <paramref name="column"/> is column <see cref="DataViewSchema.Column.Index"/> of <paramref name="schema"/>.</summary>
    public static void CheckColumn(DataViewSchema schema, DataViewSchema.Column column, string parameterName = "column")
    {
        if ((uint)column.Index >= (uint)schema.Count || schema[column.Index] != column)
            throw new ArgumentOutOfRangeException(parameterName, column.ToString(), "The column does not belong to this schema.");
    }

    /// <summary>Checks a getter request: a column of the schema, active, of raw type <typeparamref name="TValue"/>.</summary>
    public static void CheckGetter<TValue>(DataViewRow row, DataViewSchema.Column column)
    {
        CheckColumn(row.Schema, column);
        if (!row.IsColumnActive(column))
            throw new InvalidOperationException($"Column '{column.Name}' is not active: open the cursor with it among the columns needed.");
        if (column.Type.RawType != typeof(TValue))
            throw new InvalidOperationException(
                $"Column '{column.Name}' of type {column.Type} is read as {Describe(column.Type.RawType)}, not as {Describe(typeof(TValue))}.");
    }

    /// <summary>The set of column indices in <paramref name="columnsNeeded"/>, each checked against <paramref name="schema"/>.</summary>
    public static bool[] ActiveColumns(DataViewSchema schema, IEnumerable<DataViewSchema.Column> columnsNeeded)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        var active = new bool[schema.Count];
        foreach (var column in columnsNeeded)
        {
            CheckColumn(schema, column, nameof(columnsNeeded));
            active[column.Index] = true;
        }

        return active;
    }

    /// <summary>Throws when a getter is called while the cursor is not on a row.</summary>
    public static void CheckPositioned(long position)
    {
        if (position < 0)
            throw new InvalidOperationException("The cursor is not on a row: call MoveNext first (and only while it returns true).");
    }

    /// <summary>A readable name for a raw type, such as ReadOnlyMemory&lt;Single&gt;.</summary>
    public static string Describe(Type type) =>
        type.IsGenericType
            ? $"{type.Name[..type.Name.IndexOf('`')]}<{string.Join(", ", type.GetGenericArguments().Select(Describe))}>"
            : type.Name;
}
