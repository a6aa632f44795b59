using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Pipelines.Components.Optimization;

/// <summary>Sixteen floats: the vector lanes of a managed update loop where AVX-512 is accelerated (as TensorPrimitives chooses).</summary>
/// <param name="value">The floats.</param>
internal readonly struct Vector512Value(Vector512<float> value) : ILanes<Vector512Value>
{
    /// <summary>The floats.</summary>
    public Vector512<float> Value { get; } = value;

    /// <inheritdoc />
    public static int Count => Vector512<float>.Count;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Value Load(ReadOnlySpan<float> source, int offset) => new(Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)offset));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(Span<float> destination, int offset) => Value.StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)offset);

    public static Vector512Value operator +(Vector512Value left, Vector512Value right) => new(left.Value + right.Value);

    public static Vector512Value operator -(Vector512Value left, Vector512Value right) => new(left.Value - right.Value);

    public static Vector512Value operator *(Vector512Value left, Vector512Value right) => new(left.Value * right.Value);

    public static Vector512Value operator /(Vector512Value left, Vector512Value right) => new(left.Value / right.Value);

    public static Vector512Value operator +(Vector512Value left, float right) => new(left.Value + Vector512.Create(right));

    public static Vector512Value operator *(Vector512Value left, float right) => new(left.Value * right);

    public static Vector512Value operator *(float left, Vector512Value right) => new(left * right.Value);

    public static Vector512Value operator /(Vector512Value left, float right) => new(left.Value / Vector512.Create(right));

    /// <inheritdoc />
    public static Vector512Value Sign(Vector512Value value)
    {
        var (x, zero) = (value.Value, Vector512<float>.Zero);
        var sign = Vector512.ConditionalSelect(Vector512.Equals(x, zero), zero, x); // ±0 -> +0; NaN stays
        sign = Vector512.ConditionalSelect(Vector512.LessThan(x, zero), -Vector512<float>.One, sign);
        return new(Vector512.ConditionalSelect(Vector512.GreaterThan(x, zero), Vector512<float>.One, sign));
    }

    /// <inheritdoc />
    public static Vector512Value SquareRoot(Vector512Value value) => new(Vector512.Sqrt(value.Value));

    /// <inheritdoc />
    public static Vector512Value Keep(Vector512Value value) => value;
}
