using System.Collections;
using Pipelines.Data;

namespace Pipelines;

/// <summary>
/// What an estimator knows of a schema before seeing data: each column's name, kind (scalar, vector of fixed size,
/// vector of variable size), item type and whether it is a key. Sizes and key counts are not part of the shape.
/// </summary>
/// <remarks>Mirrors ML.NET's <c>SchemaShape</c> (without annotations). Names are unique: hidden columns are left out.</remarks>
public sealed class SchemaShape : IReadOnlyList<SchemaShape.Column>
{
    private readonly Column[] columns;

    /// <summary>Creates a shape of <paramref name="columns"/>; a later column replaces an earlier one of the same name.</summary>
    public SchemaShape(IEnumerable<Column> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        var list = new List<Column>();
        foreach (var column in columns)
        {
            if (column.Name is null) throw new ArgumentException("A column of a schema shape has no name.", nameof(columns));
            if (byName.TryGetValue(column.Name, out var index)) list[index] = column;
            else
            {
                byName[column.Name] = list.Count;
                list.Add(column);
            }
        }

        this.columns = [.. list];
    }

    /// <summary>The shape of the visible columns of <paramref name="schema"/>.</summary>
    public static SchemaShape Create(DataViewSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        return new SchemaShape(schema.Where(column => !column.IsHidden).Select(column => Column.FromType(column.Name, column.Type)));
    }

    /// <summary>Number of columns.</summary>
    public int Count => columns.Length;

    /// <summary>The column at <paramref name="index"/>.</summary>
    public Column this[int index] => columns[index];

    /// <summary>Finds the column named <paramref name="name"/>.</summary>
    public bool TryFindColumn(string name, out Column column)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var candidate in columns)
        {
            if (string.Equals(candidate.Name, name, StringComparison.Ordinal))
            {
                column = candidate;
                return true;
            }
        }

        column = default;
        return false;
    }

    /// <summary>This shape with <paramref name="addedColumns"/> added, each replacing any column of the same name.</summary>
    public SchemaShape WithColumns(params IEnumerable<Column> addedColumns) => new(columns.Concat(addedColumns));

    /// <inheritdoc/>
    public IEnumerator<Column> GetEnumerator() => ((IEnumerable<Column>)columns).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public override string ToString() => string.Join(", ", columns.Select(column => $"{column.Name}: {column.GetTypeString()}"));

    /// <summary>The visible column names, comma-separated (for error messages).</summary>
    internal string DescribeNames() => columns.Length == 0 ? "(none)" : string.Join(", ", columns.Select(column => $"'{column.Name}'"));

    /// <summary>One column of a shape.</summary>
    public readonly record struct Column
    {
        /// <summary>Creates a column shape.</summary>
        /// <param name="name">The column's name.</param>
        /// <param name="kind">Scalar, fixed-size vector or variable-size vector.</param>
        /// <param name="itemType">The item type; for keys, the raw number type (<see cref="NumberDataViewType.UInt32"/>).</param>
        /// <param name="isKey">Whether the items are keys.</param>
        /// <exception cref="ArgumentException"><paramref name="itemType"/> is a vector or key type.</exception>
        public Column(string name, VectorKind kind, DataViewType itemType, bool isKey)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name);
            ArgumentNullException.ThrowIfNull(itemType);
            if (itemType is VectorDataViewType or KeyDataViewType)
                throw new ArgumentException($"The item type of a column shape is a primitive non-key type, not {itemType}: use kind and isKey.", nameof(itemType));
            if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown vector kind.");
            Name = name;
            Kind = kind;
            ItemType = itemType;
            IsKey = isKey;
        }

        /// <summary>The column's name.</summary>
        public string Name { get; }

        /// <summary>Scalar, fixed-size vector or variable-size vector.</summary>
        public VectorKind Kind { get; }

        /// <summary>The item type (for keys, the raw number type).</summary>
        public DataViewType ItemType { get; }

        /// <summary>Whether the items are keys.</summary>
        public bool IsKey { get; }

        /// <summary>The shape of a column named <paramref name="name"/> of type <paramref name="type"/>.</summary>
        public static Column FromType(string name, DataViewType type)
        {
            ArgumentNullException.ThrowIfNull(type);
            var kind = type is VectorDataViewType vector ? (vector.IsKnownSize ? VectorKind.Vector : VectorKind.VariableVector) : VectorKind.Scalar;
            var item = type is VectorDataViewType vectorType ? vectorType.ItemType : type;
            return item is KeyDataViewType
                ? new Column(name, kind, NumberDataViewType.UInt32, isKey: true)
                : new Column(name, kind, item, isKey: false);
        }

        /// <summary>Whether a column of shape <paramref name="source"/> can be used where this one is expected.</summary>
        public bool IsCompatibleWith(Column source) =>
            Kind == source.Kind && IsKey == source.IsKey && ItemType.Equals(source.ItemType);

        /// <summary>The type as text, such as <c>Vector&lt;Single&gt;</c>, <c>VarVector&lt;Int32&gt;</c> or <c>Key&lt;UInt32&gt;</c>.</summary>
        public string GetTypeString()
        {
            var item = IsKey ? $"Key<{ItemType}>" : ItemType.ToString()!;
            return Kind switch
            {
                VectorKind.Vector => $"Vector<{item}>",
                VectorKind.VariableVector => $"VarVector<{item}>",
                _ => item,
            };
        }

        /// <summary>Scalar, fixed-size vector or variable-size vector.</summary>
        public enum VectorKind
        {
            /// <summary>One item per row.</summary>
            Scalar,

            /// <summary>A vector of the same size in every row.</summary>
            Vector,

            /// <summary>A vector whose size varies from row to row.</summary>
            VariableVector,
        }
    }
}
