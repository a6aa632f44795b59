namespace Pipelines.Data;

/// <summary>The type of a column of an <see cref="IDataView"/>: its values are read as <see cref="RawType"/>.</summary>
/// <remarks>
/// Mirrors ML.NET's <c>Microsoft.ML.Data.DataViewType</c>. Types compare by value (two key types of the same count
/// are equal), so schemas built independently can be checked against each other.
/// </remarks>
public abstract class DataViewType : IEquatable<DataViewType>
{
    private protected DataViewType(Type rawType) => RawType = rawType;

    /// <summary>The .NET type a getter of a column of this type reads (<c>ValueGetter&lt;RawType&gt;</c>).</summary>
    public Type RawType { get; }

    /// <summary>Whether <paramref name="other"/> is the same column type.</summary>
    public abstract bool Equals(DataViewType? other);

    /// <inheritdoc/>
    public sealed override bool Equals(object? obj) => obj is DataViewType other && Equals(other);

    /// <inheritdoc/>
    public abstract override int GetHashCode();

    /// <summary>Whether two column types are the same.</summary>
    public static bool operator ==(DataViewType? left, DataViewType? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Whether two column types differ.</summary>
    public static bool operator !=(DataViewType? left, DataViewType? right) => !(left == right);
}

/// <summary>A type whose values are single items (numbers, text, booleans, keys), as opposed to vectors.</summary>
public abstract class PrimitiveDataViewType : DataViewType
{
    private protected PrimitiveDataViewType(Type rawType) : base(rawType) { }
}

/// <summary>Numeric column types; each is a singleton.</summary>
public sealed class NumberDataViewType : PrimitiveDataViewType
{
    private readonly string name;

    private NumberDataViewType(Type rawType, string name) : base(rawType) => this.name = name;

    /// <summary>32-bit floating point (<see cref="float"/>).</summary>
    public static NumberDataViewType Single { get; } = new(typeof(float), nameof(Single));

    /// <summary>64-bit floating point (<see cref="double"/>).</summary>
    public static NumberDataViewType Double { get; } = new(typeof(double), nameof(Double));

    /// <summary>32-bit signed integer (<see cref="int"/>); token ids are vectors of this type.</summary>
    public static NumberDataViewType Int32 { get; } = new(typeof(int), nameof(Int32));

    /// <summary>32-bit unsigned integer (<see cref="uint"/>); also the item type of key columns in a <see cref="SchemaShape"/>.</summary>
    public static NumberDataViewType UInt32 { get; } = new(typeof(uint), nameof(UInt32));

    /// <summary>64-bit signed integer (<see cref="long"/>).</summary>
    public static NumberDataViewType Int64 { get; } = new(typeof(long), nameof(Int64));

    /// <inheritdoc/>
    public override bool Equals(DataViewType? other) => ReferenceEquals(this, other);

    /// <inheritdoc/>
    public override int GetHashCode() => RawType.GetHashCode();

    /// <inheritdoc/>
    public override string ToString() => name;
}

/// <summary>Text; values are read as <see cref="ReadOnlyMemory{T}"/> of <see cref="char"/>, as in ML.NET.</summary>
public sealed class TextDataViewType : PrimitiveDataViewType
{
    private TextDataViewType() : base(typeof(ReadOnlyMemory<char>)) { }

    /// <summary>The text type.</summary>
    public static TextDataViewType Instance { get; } = new();

    /// <inheritdoc/>
    public override bool Equals(DataViewType? other) => ReferenceEquals(this, other);

    /// <inheritdoc/>
    public override int GetHashCode() => RawType.GetHashCode();

    /// <inheritdoc/>
    public override string ToString() => "Text";
}

/// <summary>Booleans (<see cref="bool"/>).</summary>
public sealed class BooleanDataViewType : PrimitiveDataViewType
{
    private BooleanDataViewType() : base(typeof(bool)) { }

    /// <summary>The boolean type.</summary>
    public static BooleanDataViewType Instance { get; } = new();

    /// <inheritdoc/>
    public override bool Equals(DataViewType? other) => ReferenceEquals(this, other);

    /// <inheritdoc/>
    public override int GetHashCode() => RawType.GetHashCode();

    /// <inheritdoc/>
    public override string ToString() => "Boolean";
}

/// <summary>
/// A key: an index into a set of <see cref="Count"/> values (labels, classes, vocabulary entries), read as
/// <see cref="uint"/>.
/// </summary>
/// <remarks>
/// As in ML.NET, key values are 1-based: 1..<see cref="Count"/> are valid and 0 means missing. ML.NET also allows
/// byte, ushort and ulong raw types; this library uses <see cref="uint"/> only.
/// </remarks>
public sealed class KeyDataViewType : PrimitiveDataViewType
{
    /// <summary>Creates a key type over <paramref name="count"/> values.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is 0 or above <see cref="uint.MaxValue"/>.</exception>
    public KeyDataViewType(ulong count) : base(typeof(uint))
    {
        ArgumentOutOfRangeException.ThrowIfZero(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, uint.MaxValue);
        Count = count;
    }

    /// <summary>Number of distinct values; valid raw values are 1..Count (0 = missing).</summary>
    public ulong Count { get; }

    /// <inheritdoc/>
    public override bool Equals(DataViewType? other) => other is KeyDataViewType key && key.Count == Count;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(typeof(KeyDataViewType), Count);

    /// <inheritdoc/>
    public override string ToString() => $"Key<UInt32, 0-{Count - 1}>";
}
