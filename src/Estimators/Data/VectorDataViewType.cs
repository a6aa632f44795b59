namespace Pipelines.Data;

/// <summary>
/// A vector of <see cref="ItemType"/> items, of fixed size (<see cref="IsKnownSize"/>) or of a size that varies from
/// row to row (token-id sequences). Values are read as dense <see cref="ReadOnlyMemory{T}"/> of the item's raw type.
/// </summary>
/// <remarks>
/// ML.NET reads vectors as <c>VBuffer&lt;T&gt;</c>, which may be sparse; here vectors are always dense, and an adapter
/// converts with <c>new VBuffer&lt;T&gt;(length, array)</c> / <c>GetValues()</c>. A getter's memory is valid until the
/// cursor moves; copy it to keep it.
/// </remarks>
public sealed class VectorDataViewType : DataViewType
{
    private readonly int[] dimensions;

    /// <summary>Creates a vector type; with no dimensions, or any dimension 0, the size is variable.</summary>
    /// <param name="itemType">Type of the items.</param>
    /// <param name="dimensions">Sizes of the dimensions (row-major); their product is <see cref="Size"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, or the size overflows <see cref="int"/>.</exception>
    public VectorDataViewType(PrimitiveDataViewType itemType, params int[] dimensions)
        : base(typeof(ReadOnlyMemory<>).MakeGenericType((itemType ?? throw new ArgumentNullException(nameof(itemType))).RawType))
    {
        ArgumentNullException.ThrowIfNull(dimensions);
        ItemType = itemType;
        this.dimensions = dimensions.Length == 0 ? [0] : [.. dimensions];
        long size = 1;
        for (var index = 0; index < this.dimensions.Length; index++)
        {
            if (this.dimensions[index] < 0)
                throw new ArgumentOutOfRangeException(nameof(dimensions), this.dimensions[index], $"Dimension {index} of a vector type must not be negative.");
            size *= this.dimensions[index];
            if (size > int.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(dimensions), size, "The size of a vector type must fit in an Int32.");
        }

        Size = (int)size;
    }

    /// <summary>Type of the items.</summary>
    public PrimitiveDataViewType ItemType { get; }

    /// <summary>The dimensions (at least one; 0 marks an unknown dimension).</summary>
    public IReadOnlyList<int> Dimensions => dimensions;

    /// <summary>Number of items, or 0 when the size varies from row to row.</summary>
    public int Size { get; }

    /// <summary>Whether every row holds exactly <see cref="Size"/> items.</summary>
    public bool IsKnownSize => Size > 0;

    /// <inheritdoc/>
    public override bool Equals(DataViewType? other) =>
        other is VectorDataViewType vector && vector.ItemType.Equals(ItemType) && vector.dimensions.AsSpan().SequenceEqual(dimensions);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(ItemType);
        foreach (var dimension in dimensions) hash.Add(dimension);
        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() =>
        IsKnownSize ? $"Vector<{ItemType}, {string.Join(", ", dimensions)}>" : $"Vector<{ItemType}>";
}
