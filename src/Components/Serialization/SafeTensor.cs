using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Pipelines.Components.Serialization;

/// <summary>One named tensor of a safetensors file: element type, shape and little-endian row-major bytes.</summary>
public sealed class SafeTensor
{
    private readonly ReadOnlyMemory<byte> data;

    private SafeTensor(string name, SafeTensorDataType dataType, long[] shape, ReadOnlyMemory<byte> data)
    {
        Name = name;
        DataType = dataType;
        Shape = Array.AsReadOnly(shape);
        ElementCount = data.Length / dataType.ElementSize();
        this.data = data;
    }

    /// <summary>The tensor's name (a key of the header), e.g. <c>blocks.0.attention.qkv.weight</c>.</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public SafeTensorDataType DataType { get; }

    /// <summary>The shape, outermost dimension first; empty for a scalar.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Number of elements (the product of <see cref="Shape"/>; 1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>The data as stored in the file: little-endian, row-major, contiguous.</summary>
    public ReadOnlySpan<byte> Bytes => data.Span;

    /// <summary>A float32 tensor holding a copy of <paramref name="values"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty or the shape's product is not the number of values.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static SafeTensor Create(string name, IReadOnlyList<long> shape, ReadOnlySpan<float> values) =>
        Create(name, SafeTensorDataType.Float32, shape, MemoryMarshal.AsBytes(values), values.Length);

    /// <summary>An int32 tensor holding a copy of <paramref name="values"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty or the shape's product is not the number of values.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static SafeTensor Create(string name, IReadOnlyList<long> shape, ReadOnlySpan<int> values) =>
        Create(name, SafeTensorDataType.Int32, shape, MemoryMarshal.AsBytes(values), values.Length);

    /// <summary>An int64 tensor holding a copy of <paramref name="values"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty or the shape's product is not the number of values.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static SafeTensor Create(string name, IReadOnlyList<long> shape, ReadOnlySpan<long> values) =>
        Create(name, SafeTensorDataType.Int64, shape, MemoryMarshal.AsBytes(values), values.Length);

    /// <summary>The values of a float32 tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor has another type.</exception>
    public float[] ToSingleArray() => ToArray<float>(SafeTensorDataType.Float32);

    /// <summary>The values of an int32 tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor has another type.</exception>
    public int[] ToInt32Array() => ToArray<int>(SafeTensorDataType.Int32);

    /// <summary>The values of an int64 tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor has another type.</exception>
    public long[] ToInt64Array() => ToArray<long>(SafeTensorDataType.Int64);

    /// <summary>Copies the values of a float32 tensor into <paramref name="destination"/>.</summary>
    /// <exception cref="InvalidOperationException">The tensor has another type.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/>'s length is not <see cref="ElementCount"/>.</exception>
    public void CopyTo(Span<float> destination)
    {
        RequireType(SafeTensorDataType.Float32);
        if (destination.Length != ElementCount)
            throw new ArgumentException($"Tensor '{Name}' has {ElementCount} elements; the destination has {destination.Length}.", nameof(destination));
        CopyLittleEndian(data.Span, MemoryMarshal.AsBytes(destination), sizeof(float));
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {DataType.FormatName()} [{string.Join(", ", Shape)}]";

    /// <summary>Wraps bytes already checked against the shape (used by the reader; no copy).</summary>
    internal static SafeTensor FromValidatedBytes(string name, SafeTensorDataType dataType, long[] shape, ReadOnlyMemory<byte> data) =>
        new(name, dataType, shape, data);

    /// <summary>Elements of <paramref name="shape"/>, or -1 if a dimension is negative or the product overflows.</summary>
    internal static long CountElements(IReadOnlyList<long> shape)
    {
        long count = 1;
        foreach (var dimension in shape)
        {
            if (dimension < 0) return -1;
            if (dimension != 0 && count > long.MaxValue / dimension) return -1;
            count *= dimension;
        }

        return count;
    }

    /// <summary>Copies elements between host order and little-endian order (a plain copy on little-endian machines).</summary>
    internal static void CopyLittleEndian(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize)
    {
        source.CopyTo(destination);
        if (BitConverter.IsLittleEndian) return;
        if (elementSize == 4)
        {
            var words = MemoryMarshal.Cast<byte, int>(destination);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
        else
        {
            var words = MemoryMarshal.Cast<byte, long>(destination);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
    }

    private static SafeTensor Create(string name, SafeTensorDataType dataType, IReadOnlyList<long> shape, ReadOnlySpan<byte> hostBytes, int valueCount)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        for (var axis = 0; axis < shape.Count; axis++)
        {
            if (shape[axis] < 0) throw new ArgumentOutOfRangeException(nameof(shape), shape[axis], $"Dimension {axis} of tensor '{name}' is negative.");
        }

        var elementCount = CountElements(shape);
        if (elementCount != valueCount)
            throw new ArgumentException($"Tensor '{name}' has shape [{string.Join(", ", shape)}] ({elementCount} elements) but {valueCount} values.", nameof(shape));

        var bytes = new byte[hostBytes.Length];
        CopyLittleEndian(hostBytes, bytes, dataType.ElementSize());
        return new SafeTensor(name, dataType, shape.ToArray(), bytes);
    }

    private T[] ToArray<T>(SafeTensorDataType expected)
        where T : unmanaged
    {
        RequireType(expected);
        var values = new T[ElementCount];
        CopyLittleEndian(data.Span, MemoryMarshal.AsBytes(values.AsSpan()), expected.ElementSize());
        return values;
    }

    private void RequireType(SafeTensorDataType expected)
    {
        if (DataType != expected)
            throw new InvalidOperationException($"Tensor '{Name}' holds {DataType.FormatName()} values, not {expected.FormatName()}.");
    }
}
