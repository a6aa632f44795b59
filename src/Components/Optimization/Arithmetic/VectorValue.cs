using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Pipelines.Components.Optimization;

/// <summary><see cref="Vector{T}.Count"/> floats: the vector lanes of a managed update loop where AVX-512 is absent.</summary>
/// <param name="value">The floats.</param>
internal readonly struct VectorValue(Vector<float> value) : ILanes<VectorValue>
{
    /// <summary>The floats.</summary>
    public Vector<float> Value { get; } = value;

    /// <inheritdoc />
    public static int Count => Vector<float>.Count;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VectorValue Load(ReadOnlySpan<float> source, int offset) => new(Vector.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)offset));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(Span<float> destination, int offset) => Value.StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)offset);

    public static VectorValue operator +(VectorValue left, VectorValue right) => new(left.Value + right.Value);

    public static VectorValue operator -(VectorValue left, VectorValue right) => new(left.Value - right.Value);

    public static VectorValue operator *(VectorValue left, VectorValue right) => new(left.Value * right.Value);

    public static VectorValue operator /(VectorValue left, VectorValue right) => new(left.Value / right.Value);

    public static VectorValue operator +(VectorValue left, float right) => new(left.Value + new Vector<float>(right));

    public static VectorValue operator *(VectorValue left, float right) => new(left.Value * right);

    public static VectorValue operator *(float left, VectorValue right) => new(left * right.Value);

    public static VectorValue operator /(VectorValue left, float right) => new(left.Value / new Vector<float>(right));

    /// <inheritdoc />
    public static VectorValue Sign(VectorValue value)
    {
        var (x, zero) = (value.Value, Vector<float>.Zero);
        var sign = Vector.ConditionalSelect(Vector.Equals(x, zero), zero, x); // ±0 -> +0; NaN stays
        sign = Vector.ConditionalSelect(Vector.LessThan(x, zero), -Vector<float>.One, sign);
        return new(Vector.ConditionalSelect(Vector.GreaterThan(x, zero), Vector<float>.One, sign));
    }

    /// <inheritdoc />
    public static VectorValue SquareRoot(VectorValue value) => new(Vector.SquareRoot(value.Value));

    /// <inheritdoc />
    public static VectorValue Keep(VectorValue value) => value;
}
