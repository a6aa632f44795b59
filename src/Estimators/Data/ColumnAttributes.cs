namespace Pipelines.Data;

/// <summary>The column name of a member of a data class (instead of the member's name).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ColumnNameAttribute(string name) : Attribute
{
    /// <summary>The column name.</summary>
    public string Name { get; } = name;
}

/// <summary>Leaves a public member of a data class out of the columns.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class NoColumnAttribute : Attribute;

/// <summary>Which field(s) of a text file a member of a data class is read from (0-based).</summary>
/// <remarks>A scalar member reads one field; an array member reads a range or a list of fields as a fixed-size vector.</remarks>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class LoadColumnAttribute : Attribute
{
    /// <summary>Reads field <paramref name="fieldIndex"/>.</summary>
    public LoadColumnAttribute(int fieldIndex) : this([fieldIndex]) { }

    /// <summary>Reads fields <paramref name="start"/> to <paramref name="end"/>, both included, as a vector.</summary>
    public LoadColumnAttribute(int start, int end)
        : this(start <= end && start >= 0 ? [.. Enumerable.Range(start, end - start + 1)] : throw new ArgumentOutOfRangeException(nameof(end), end, $"The range {start}..{end} is empty or negative."))
    {
    }

    /// <summary>Reads the listed fields, in order, as a vector.</summary>
    public LoadColumnAttribute(int[] fieldIndexes)
    {
        ArgumentNullException.ThrowIfNull(fieldIndexes);
        if (fieldIndexes.Length == 0 || fieldIndexes.Any(index => index < 0))
            throw new ArgumentOutOfRangeException(nameof(fieldIndexes), "Field indexes must be non-negative, and at least one is required.");
        FieldIndexes = [.. fieldIndexes];
    }

    /// <summary>The 0-based field indexes, in order.</summary>
    public IReadOnlyList<int> FieldIndexes { get; }
}

/// <summary>Marks an array member of a data class as a vector of fixed dimensions (without it, the size is variable).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class VectorTypeAttribute(params int[] dimensions) : Attribute
{
    /// <summary>The dimensions; none, or a 0, means variable size.</summary>
    public IReadOnlyList<int> Dimensions { get; } = [.. dimensions];
}

/// <summary>Marks a <see cref="uint"/> (or <see cref="uint"/> array) member as a key over <see cref="Count"/> values (1-based; 0 = missing).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class KeyTypeAttribute(ulong count) : Attribute
{
    /// <summary>The number of key values.</summary>
    public ulong Count { get; } = count;
}
