using Pipelines.Components.Optimization;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Optimization;

/// <summary>
/// A whole tensor as the element arithmetic of the managed transforms' formulas: each operation is one tensor operation on
/// the tensor's device, so <c>ScaleByAdam.Formula</c> and its kin run unchanged on a parameter's tensors.
/// </summary>
/// <remarks>
/// Every operation makes a new tensor (none is in place, so an input such as a gradient is never written); callers run a
/// formula inside a dispose scope and keep only its results. Scalars are float32, as on the managed engine, so on the CPU
/// the device computes the managed engine's operations in its order.
/// </remarks>
/// <param name="value">The tensor.</param>
internal readonly struct TensorValue(Tensor value) : IUpdateArithmetic<TensorValue>
{
    /// <summary>The tensor.</summary>
    public Tensor Value { get; } = value;

    public static TensorValue operator +(TensorValue left, TensorValue right) => new(left.Value + right.Value);

    public static TensorValue operator -(TensorValue left, TensorValue right) => new(left.Value - right.Value);

    public static TensorValue operator *(TensorValue left, TensorValue right) => new(left.Value * right.Value);

    public static TensorValue operator /(TensorValue left, TensorValue right) => new(left.Value / right.Value);

    public static TensorValue operator +(TensorValue left, float right) => new(left.Value + right);

    public static TensorValue operator *(TensorValue left, float right) => new(left.Value * right);

    public static TensorValue operator *(float left, TensorValue right) => new(right.Value * left);

    public static TensorValue operator /(TensorValue left, float right) => new(left.Value / right);

    /// <inheritdoc />
    public static TensorValue Sign(TensorValue value) => new(value.Value.sign());

    /// <inheritdoc />
    public static TensorValue SquareRoot(TensorValue value) => new(value.Value.sqrt());
}
