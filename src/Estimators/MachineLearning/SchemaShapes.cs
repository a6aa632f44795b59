using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.MachineLearning;

namespace Pipelines;

/// <summary>
/// Building and describing ML.NET <see cref="SchemaShape"/> columns, whose constructor ML.NET keeps internal, so that
/// every estimator's <c>GetOutputSchema</c> can state its output before any training.
/// </summary>
public static class SchemaShapes
{
    /// <summary>A column shape.</summary>
    /// <param name="name">The column's name.</param>
    /// <param name="kind">Scalar, fixed-size vector or variable-size vector.</param>
    /// <param name="itemType">The item type (for a key column, any key type: shapes carry no key count).</param>
    /// <param name="isKey">Whether the items are keys.</param>
    /// <param name="annotations">The column's annotation shapes (such as <c>KeyValues</c>), or none.</param>
    public static SchemaShape.Column Column(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey, SchemaShape? annotations = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(itemType);
        return MachineLearningInternals.CreateColumn(name, kind, itemType, isKey, annotations);
    }

    /// <summary>The shape of a column of type <paramref name="type"/>, as ML.NET derives it from a schema.</summary>
    public static SchemaShape.Column FromType(string name, DataViewType type, SchemaShape? annotations = null)
    {
        ArgumentNullException.ThrowIfNull(type);
        var (kind, item) = type switch
        {
            VectorDataViewType { IsKnownSize: true } vector => (SchemaShape.Column.VectorKind.Vector, vector.ItemType),
            VectorDataViewType vector => (SchemaShape.Column.VectorKind.VariableVector, vector.ItemType),
            _ => (SchemaShape.Column.VectorKind.Scalar, type),
        };
        var isKey = item is KeyDataViewType;
        return Column(name, kind, isKey ? NumberDataViewType.UInt32 : item, isKey, annotations);
    }

    /// <summary>The shape of every column of <paramref name="schema"/>, with their annotations' shapes.</summary>
    public static SchemaShape FromSchema(DataViewSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        return new SchemaShape(schema.Where(column => !column.IsHidden).Select(column =>
            FromType(column.Name, column.Type, new SchemaShape(column.Annotations.Schema.Select(annotation => FromType(annotation.Name, annotation.Type))))));
    }

    /// <summary><paramref name="input"/> with <paramref name="added"/> appended, each hiding an input column of the same name.</summary>
    public static SchemaShape WithColumns(this SchemaShape input, params SchemaShape.Column[] added)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(added);
        var names = added.Select(column => column.Name).ToHashSet(StringComparer.Ordinal);
        return new SchemaShape(input.Where(column => !names.Contains(column.Name)).Concat(added));
    }

    /// <summary>The annotation shape ML.NET's key-to-value and evaluators look for: <c>KeyValues</c>, a vector of text.</summary>
    public static SchemaShape KeyValuesAnnotation() =>
        new([Column("KeyValues", SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance, isKey: false)]);

    /// <summary>The shape's type as text, such as <c>Vector&lt;Key&lt;UInt32&gt;&gt;</c>.</summary>
    public static string Describe(SchemaShape.Column column)
    {
        var item = column.IsKey ? $"Key<{column.ItemType.RawType.Name}>" : column.ItemType.RawType == typeof(ReadOnlyMemory<char>) ? "Text" : column.ItemType.RawType.Name;
        return column.Kind switch
        {
            SchemaShape.Column.VectorKind.Scalar => item,
            SchemaShape.Column.VectorKind.Vector => $"Vector<{item}> (fixed size)",
            _ => $"Vector<{item}> (variable size)",
        };
    }

    /// <summary>The names of the visible columns, for messages.</summary>
    internal static string DescribeNames(this SchemaShape shape) => string.Join(", ", shape.Select(column => $"'{column.Name}'"));

    /// <summary>The names of the visible columns, for messages.</summary>
    internal static string DescribeNames(this DataViewSchema schema) =>
        string.Join(", ", schema.Where(column => !column.IsHidden).Select(column => $"'{column.Name}'"));
}
