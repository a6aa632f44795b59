using System.Collections;
using Pipelines.Data;

namespace Pipelines;

/// <summary>The columns of an <see cref="IDataView"/>: names, positions and types.</summary>
/// <remarks>
/// Mirrors ML.NET's <c>DataViewSchema</c> (without annotations). Names need not be unique: a column added later
/// hides an earlier one of the same name (<see cref="Column.IsHidden"/>), which stays reachable by index. This is
/// how a transformer "replaces" a column without copying the data.
/// </remarks>
public sealed class DataViewSchema : IReadOnlyList<DataViewSchema.Column>
{
    private readonly Column[] columns;
    private readonly Dictionary<string, int> visibleByName;

    private DataViewSchema(Column[] columns)
    {
        this.columns = columns;
        visibleByName = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var column in columns)
            visibleByName[column.Name] = column.Index;
    }

    /// <summary>Number of columns, hidden ones included.</summary>
    public int Count => columns.Length;

    /// <summary>The column at <paramref name="columnIndex"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No column has that index.</exception>
    public Column this[int columnIndex] =>
        (uint)columnIndex < (uint)columns.Length
            ? columns[columnIndex]
            : throw new ArgumentOutOfRangeException(nameof(columnIndex), columnIndex, $"The schema has {columns.Length} columns.");

    /// <summary>The visible column named <paramref name="columnName"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No column has that name.</exception>
    public Column this[string columnName] =>
        GetColumnOrNull(columnName)
        ?? throw new ArgumentOutOfRangeException(nameof(columnName), columnName,
            $"The schema has no column '{columnName}'; its columns are: {DescribeNames()}.");

    /// <summary>The visible column named <paramref name="columnName"/>, or null.</summary>
    public Column? GetColumnOrNull(string columnName)
    {
        ArgumentNullException.ThrowIfNull(columnName);
        return visibleByName.TryGetValue(columnName, out var index) ? columns[index] : null;
    }

    /// <inheritdoc/>
    public IEnumerator<Column> GetEnumerator() => ((IEnumerable<Column>)columns).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public override string ToString() => string.Join(", ", columns.Select(column => column.ToString()));

    /// <summary>The visible column names, comma-separated (for error messages).</summary>
    internal string DescribeNames() =>
        columns.Length == 0 ? "(none)" : string.Join(", ", columns.Where(column => !column.IsHidden).Select(column => $"'{column.Name}'"));

    /// <summary>Creates a schema of the given columns, in order.</summary>
    public static DataViewSchema Create(IEnumerable<DetachedColumn> columns)
    {
        var builder = new Builder();
        foreach (var column in columns) builder.AddColumn(column.Name, column.Type);
        return builder.ToSchema();
    }

    /// <summary>One column of a schema.</summary>
    public readonly struct Column : IEquatable<Column>
    {
        internal Column(string name, int index, bool isHidden, DataViewType type)
        {
            Name = name;
            Index = index;
            IsHidden = isHidden;
            Type = type;
        }

        /// <summary>The column's name.</summary>
        public string Name { get; }

        /// <summary>The column's position in its schema.</summary>
        public int Index { get; }

        /// <summary>Whether a later column of the same name hides this one (it is then reachable by index only).</summary>
        public bool IsHidden { get; }

        /// <summary>The type of the column's values.</summary>
        public DataViewType Type { get; }

        /// <inheritdoc/>
        public bool Equals(Column other) =>
            Index == other.Index && IsHidden == other.IsHidden && string.Equals(Name, other.Name, StringComparison.Ordinal) && Equals(Type, other.Type);

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is Column other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() => HashCode.Combine(Name, Index, IsHidden, Type);

        /// <summary>Whether two columns are the same.</summary>
        public static bool operator ==(Column left, Column right) => left.Equals(right);

        /// <summary>Whether two columns differ.</summary>
        public static bool operator !=(Column left, Column right) => !left.Equals(right);

        /// <inheritdoc/>
        public override string ToString() => $"{Name} ({Index}): {Type}{(IsHidden ? " (hidden)" : "")}";
    }

    /// <summary>A column's name and type, not yet placed in a schema.</summary>
    /// <param name="Name">The column's name.</param>
    /// <param name="Type">The type of its values.</param>
    public readonly record struct DetachedColumn(string Name, DataViewType Type)
    {
        /// <summary>The name and type of <paramref name="column"/>.</summary>
        public DetachedColumn(Column column) : this(column.Name, column.Type) { }
    }

    /// <summary>Builds a <see cref="DataViewSchema"/> column by column.</summary>
    public sealed class Builder
    {
        private readonly List<DetachedColumn> pending = [];

        /// <summary>Adds a column after those already added.</summary>
        /// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space.</exception>
        public Builder AddColumn(string name, DataViewType type)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name);
            ArgumentNullException.ThrowIfNull(type);
            pending.Add(new DetachedColumn(name, type));
            return this;
        }

        /// <summary>Adds the name and type of each of <paramref name="columns"/> (hidden ones included, so indices carry over).</summary>
        public Builder AddColumns(IEnumerable<Column> columns)
        {
            ArgumentNullException.ThrowIfNull(columns);
            foreach (var column in columns) AddColumn(column.Name, column.Type);
            return this;
        }

        /// <summary>Creates the schema; later columns hide earlier ones of the same name.</summary>
        public DataViewSchema ToSchema()
        {
            var lastIndexByName = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var index = 0; index < pending.Count; index++) lastIndexByName[pending[index].Name] = index;
            var columns = new Column[pending.Count];
            for (var index = 0; index < pending.Count; index++)
                columns[index] = new Column(pending[index].Name, index, lastIndexByName[pending[index].Name] != index, pending[index].Type);
            return new DataViewSchema(columns);
        }
    }
}
