using Microsoft.ML;
using Microsoft.ML.Data;

namespace Pipelines;

/// <summary>
/// The check every estimator and transformer makes on its input columns, so that a missing or wrongly typed column
/// fails at <c>GetOutputSchema</c> or <c>Fit</c> with one message naming the column, the expected type and the
/// actual one.
/// </summary>
/// <example>
/// <code>
/// var tokens = SchemaValidation.RequireColumn(inputSchema, options.TokensColumnName, ColumnRequirement.Vector(NumberDataViewType.Int32));
/// </code>
/// </example>
public static class SchemaValidation
{
    /// <summary>The column named <paramref name="columnName"/> of a shape, checked against <paramref name="requirement"/>.</summary>
    /// <exception cref="SchemaMismatchException">The column is missing or does not meet the requirement.</exception>
    public static SchemaShape.Column RequireColumn(SchemaShape inputSchema, string columnName, ColumnRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentNullException.ThrowIfNull(columnName);
        ArgumentNullException.ThrowIfNull(requirement);
        if (inputSchema.FirstOrDefault(candidate => candidate.Name == columnName) is not { Name: not null } column)
            throw SchemaMismatchException.Missing(columnName, requirement.Description, inputSchema.DescribeNames(), nameof(inputSchema));
        if (!requirement.IsSatisfiedBy(column))
            throw new SchemaMismatchException(columnName, requirement.Description, SchemaShapes.Describe(column), nameof(inputSchema));
        return column;
    }

    /// <summary>The visible column named <paramref name="columnName"/> of a schema, checked against <paramref name="requirement"/>.</summary>
    /// <exception cref="SchemaMismatchException">The column is missing or does not meet the requirement.</exception>
    public static DataViewSchema.Column RequireColumn(DataViewSchema inputSchema, string columnName, ColumnRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentNullException.ThrowIfNull(columnName);
        ArgumentNullException.ThrowIfNull(requirement);
        if (inputSchema.GetColumnOrNull(columnName) is not { } column)
            throw SchemaMismatchException.Missing(columnName, requirement.Description, inputSchema.DescribeNames(), nameof(inputSchema));
        if (!requirement.IsSatisfiedBy(column.Type))
            throw new SchemaMismatchException(columnName, requirement.Description, column.Type.ToString()!, nameof(inputSchema));
        return column;
    }
}

/// <summary>What an input column must be: a description for messages and a test on shapes and on types.</summary>
/// <remarks>A shape carries no vector size or key count, so those parts are checked only against a full <see cref="DataViewType"/>.</remarks>
public sealed class ColumnRequirement
{
    private readonly Func<SchemaShape.Column, bool> shapeTest;
    private readonly Func<DataViewType, bool> typeTest;

    private ColumnRequirement(string description, Func<SchemaShape.Column, bool> shapeTest, Func<DataViewType, bool>? typeTest = null)
    {
        Description = description;
        this.shapeTest = shapeTest;
        this.typeTest = typeTest ?? (type => shapeTest(SchemaShapes.FromType("column", type)));
    }

    /// <summary>The expected type as text, such as <c>Vector&lt;Int32&gt;</c>.</summary>
    public string Description { get; }

    /// <summary>Any type: the column must only exist.</summary>
    public static ColumnRequirement Any { get; } = new("any type", _ => true, _ => true);

    /// <summary>Exactly <paramref name="type"/> (a key type with its count, a vector type with its size).</summary>
    public static ColumnRequirement Exactly(DataViewType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        var shape = SchemaShapes.FromType("column", type);
        return new(type.ToString()!, column => IsCompatible(shape, column), type.Equals);
    }

    /// <summary>A scalar of <paramref name="itemType"/> (any key count when it is a key type).</summary>
    public static ColumnRequirement Scalar(PrimitiveDataViewType itemType) => OfKind(itemType, SchemaShape.Column.VectorKind.Scalar);

    /// <summary>A scalar key of any count.</summary>
    public static ColumnRequirement Key() => OfKind(new KeyDataViewType(typeof(uint), 1), SchemaShape.Column.VectorKind.Scalar);

    /// <summary>A vector of <paramref name="itemType"/>, of fixed or variable size.</summary>
    public static ColumnRequirement Vector(PrimitiveDataViewType itemType)
    {
        ArgumentNullException.ThrowIfNull(itemType);
        var item = SchemaShapes.FromType("column", itemType);
        return new(
            $"Vector<{SchemaShapes.Describe(item)}> (fixed or variable size)",
            column => column.Kind != SchemaShape.Column.VectorKind.Scalar && SameItem(item, column));
    }

    /// <summary>A vector of exactly <paramref name="size"/> items of <paramref name="itemType"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not positive.</exception>
    public static ColumnRequirement Vector(PrimitiveDataViewType itemType, int size)
    {
        ArgumentNullException.ThrowIfNull(itemType);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        var item = SchemaShapes.FromType("column", itemType);
        return new(
            $"Vector<{SchemaShapes.Describe(item)}, {size}>",
            column => column.Kind == SchemaShape.Column.VectorKind.Vector && SameItem(item, column),
            type => type is VectorDataViewType vector && vector.Size == size && SameItem(SchemaShapes.FromType("column", vector.ItemType), item));
    }

    /// <summary>Any one of <paramref name="alternatives"/>.</summary>
    public static ColumnRequirement OneOf(params ColumnRequirement[] alternatives)
    {
        ArgumentNullException.ThrowIfNull(alternatives);
        if (alternatives.Length == 0) throw new ArgumentException("At least one alternative is required.", nameof(alternatives));
        return new(
            string.Join(" or ", alternatives.Select(alternative => alternative.Description)),
            column => alternatives.Any(alternative => alternative.shapeTest(column)),
            type => alternatives.Any(alternative => alternative.typeTest(type)));
    }

    /// <summary>Whether a column of shape <paramref name="column"/> meets the requirement.</summary>
    public bool IsSatisfiedBy(SchemaShape.Column column) => shapeTest(column);

    /// <summary>Whether a column of type <paramref name="type"/> meets the requirement.</summary>
    public bool IsSatisfiedBy(DataViewType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return typeTest(type);
    }

    /// <inheritdoc/>
    public override string ToString() => Description;

    private static bool IsCompatible(SchemaShape.Column expected, SchemaShape.Column actual) =>
        expected.Kind == actual.Kind && SameItem(expected, actual);

    private static bool SameItem(SchemaShape.Column expected, SchemaShape.Column actual) =>
        expected.IsKey == actual.IsKey && (expected.IsKey || expected.ItemType.Equals(actual.ItemType));

    private static ColumnRequirement OfKind(PrimitiveDataViewType itemType, SchemaShape.Column.VectorKind kind)
    {
        ArgumentNullException.ThrowIfNull(itemType);
        var expected = SchemaShapes.FromType("column", itemType);
        var description = kind == SchemaShape.Column.VectorKind.Scalar ? SchemaShapes.Describe(expected) : $"Vector<{SchemaShapes.Describe(expected)}>";
        return new(description, column => column.Kind == kind && SameItem(expected, column));
    }
}

/// <summary>An input column is missing or of the wrong type.</summary>
/// <remarks>The message names the column, the expected type and the actual one (or the columns present, when it is missing).</remarks>
public sealed class SchemaMismatchException : ArgumentException
{
    /// <summary>Creates the exception for a column of the wrong type.</summary>
    public SchemaMismatchException(string columnName, string expectedType, string actualType, string? parameterName = null)
        : this(columnName, expectedType, actualType,
            $"Schema mismatch for input column '{columnName}': expected {expectedType}, found {actualType}.", parameterName)
    {
    }

    private SchemaMismatchException(string columnName, string expectedType, string? actualType, string message, string? parameterName)
        : base(message, parameterName)
    {
        ColumnName = columnName;
        ExpectedType = expectedType;
        ActualType = actualType;
    }

    /// <summary>The input column's name.</summary>
    public string ColumnName { get; }

    /// <summary>The expected type, as text.</summary>
    public string ExpectedType { get; }

    /// <summary>The actual type, as text; null when the column is missing.</summary>
    public string? ActualType { get; }

    /// <summary>Creates the exception for a missing column.</summary>
    public static SchemaMismatchException Missing(string columnName, string expectedType, string presentColumns, string? parameterName = null) =>
        new(columnName, expectedType, actualType: null,
            $"Input column '{columnName}' (expected {expectedType}) is missing; the input has columns {presentColumns}.", parameterName);
}
