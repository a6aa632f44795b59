using System.Runtime.CompilerServices;

namespace Pipelines.Components.Optimization;

/// <summary>One float: the scalar lane of a managed update loop (the tail after the vectors, and the reference).</summary>
/// <param name="value">The float.</param>
internal readonly struct FloatValue(float value) : ILanes<FloatValue>
{
    /// <summary>The float.</summary>
    public float Value { get; } = value;

    /// <inheritdoc />
    public static int Count => 1;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FloatValue Load(ReadOnlySpan<float> source, int offset) => new(source[offset]);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(Span<float> destination, int offset) => destination[offset] = Value;

    public static FloatValue operator +(FloatValue left, FloatValue right) => new(left.Value + right.Value);

    public static FloatValue operator -(FloatValue left, FloatValue right) => new(left.Value - right.Value);

    public static FloatValue operator *(FloatValue left, FloatValue right) => new(left.Value * right.Value);

    public static FloatValue operator /(FloatValue left, FloatValue right) => new(left.Value / right.Value);

    public static FloatValue operator +(FloatValue left, float right) => new(left.Value + right);

    public static FloatValue operator *(FloatValue left, float right) => new(left.Value * right);

    public static FloatValue operator *(float left, FloatValue right) => new(left * right.Value);

    public static FloatValue operator /(FloatValue left, float right) => new(left.Value / right);

    /// <inheritdoc />
    public static FloatValue Sign(FloatValue value) => new(value.Value > 0 ? 1f : value.Value < 0 ? -1f : value.Value == 0 ? 0f : value.Value);

    /// <inheritdoc />
    public static FloatValue SquareRoot(FloatValue value) => new(MathF.Sqrt(value.Value));

    /// <inheritdoc />
    public static FloatValue Keep(FloatValue value) => value;
}
