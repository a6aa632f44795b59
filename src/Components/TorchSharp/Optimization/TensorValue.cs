using Pipelines.Components.Optimization;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Optimization;

/// <summary>
/// A whole tensor as the element arithmetic of the managed transforms' formulas: each operation is one tensor operation on
/// the tensor's device, so <c>ScaleByAdam.Formula</c> and its kin run unchanged on a parameter's tensors.
/// </summary>
/// <remarks>
/// <para>A value is <see cref="Owned"/> when this formula made it (or the optimizer's update buffer holds it alone) and
/// nothing else reads it: an operation then overwrites it in place instead of allocating a new tensor, which is what
/// keeps the device step near the cost of libtorch's own in-place optimizers. Inputs (gradients, parameters, state) are
/// never owned, so they are never written; a formula marks an intermediate it reads twice with
/// <see cref="IUpdateArithmetic{TSelf}.Keep"/>, which makes it not owned. When only the right operand of <c>+</c> or
/// <c>*</c> is owned, it is overwritten instead (both are exactly commutative in IEEE arithmetic); <c>l − r</c> with
/// only <c>r</c> owned becomes <c>(−r) + l</c>, the same bits.</para>
/// <para>Scalars are float32, as on the managed engine, so on the CPU the device computes the managed engine's operations
/// in its order.</para>
/// </remarks>
/// <param name="value">The tensor.</param>
/// <param name="owned">Whether operations may overwrite it.</param>
internal readonly struct TensorValue(Tensor value, bool owned = false) : IUpdateArithmetic<TensorValue>
{
    /// <summary>The tensor.</summary>
    public Tensor Value { get; } = value;

    /// <summary>Whether an operation may overwrite <see cref="Value"/> in place.</summary>
    public bool Owned { get; } = owned;

    public static TensorValue operator +(TensorValue left, TensorValue right)
    {
        if (left.Owned) return InPlace(left, left.Value.add_(right.Value));
        if (right.Owned) return InPlace(right, right.Value.add_(left.Value));
        return new(left.Value + right.Value, owned: true);
    }

    public static TensorValue operator -(TensorValue left, TensorValue right)
    {
        if (left.Owned) return InPlace(left, left.Value.sub_(right.Value));
        if (right.Owned) return InPlace(right, right.Value.neg_().add_(left.Value));
        return new(left.Value - right.Value, owned: true);
    }

    public static TensorValue operator *(TensorValue left, TensorValue right)
    {
        if (left.Owned) return InPlace(left, left.Value.mul_(right.Value));
        if (right.Owned) return InPlace(right, right.Value.mul_(left.Value));
        return new(left.Value * right.Value, owned: true);
    }

    public static TensorValue operator /(TensorValue left, TensorValue right) =>
        left.Owned ? InPlace(left, left.Value.div_(right.Value)) : new(left.Value / right.Value, owned: true);

    public static TensorValue operator +(TensorValue left, float right) =>
        left.Owned ? InPlace(left, left.Value.add_(right)) : new(left.Value + right, owned: true);

    public static TensorValue operator *(TensorValue left, float right) =>
        left.Owned ? InPlace(left, left.Value.mul_(right)) : new(left.Value * right, owned: true);

    public static TensorValue operator *(float left, TensorValue right) => right * left;

    public static TensorValue operator /(TensorValue left, float right) =>
        left.Owned ? InPlace(left, left.Value.div_(right)) : new(left.Value / right, owned: true);

    /// <inheritdoc />
    public static TensorValue Sign(TensorValue value) => value.Owned ? InPlace(value, value.Value.sign_()) : new(value.Value.sign(), owned: true);

    /// <inheritdoc />
    public static TensorValue SquareRoot(TensorValue value) => value.Owned ? InPlace(value, value.Value.sqrt_()) : new(value.Value.sqrt(), owned: true);

    /// <inheritdoc />
    public static TensorValue Keep(TensorValue value) => new(value.Value, owned: false);

    /// <summary>The overwritten value; <paramref name="result"/> (the in-place operation's return, the same native tensor) is released, as TorchSharp returns a new wrapper.</summary>
    private static TensorValue InPlace(TensorValue value, Tensor result)
    {
        if (!ReferenceEquals(result, value.Value)) result.Dispose();
        return value;
    }
}
