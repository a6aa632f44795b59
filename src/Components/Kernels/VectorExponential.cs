using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Pipelines.Components.Kernels;

/// <summary>A float32 exponential computed in float32, the same bits in a 512-bit lane, a <see cref="Vector{T}"/> lane and the scalar.</summary>
/// <remarks>
/// After Cephes' <c>expf</c> (S. L. Moshier, Cephes Math Library, 1984–1992), written with fused multiply-adds:
/// <c>n = round(x·log₂e)</c>; <c>r = x − n·ln2</c>, with ln 2 split into <c>0.693359375 − 2.12194440·10⁻⁴</c> so
/// that the reduction keeps its low bits; <c>e^r ≈ 1 + r + r²·P(r)</c>, P the degree-5 minimax polynomial of
/// Cephes (|r| ≤ ln2/2); <c>e^x = 2ⁿ·e^r</c>, the 2ⁿ added straight into the exponent bits. Measured against
/// double-precision <see cref="Math.Exp(double)"/> at 2²⁴ + 1 points of [−87, 88], the largest error is
/// 1.008 ulp (see <c>VectorExponentialTests</c>); the promise is under 2 ulp.
/// Inputs above ln(float.MaxValue) ≈ 88.7228 give +∞; inputs below −87.33, just above ln(2⁻¹²⁶) ≈ −87.3365, give
/// exactly 0 (results under about 1.2·10⁻³⁸ flush to zero, so e^−∞ = 0 and a softmax's masked entries stay
/// exactly 0); NaN stays NaN.
/// The three overloads do the same operations in the same order, so a kernel's scalar tail gives the bits a
/// vector lane would have: results do not depend on where a thread's chunk ends.
/// .NET 10's own <c>Vector512.Exp</c> on float widens to double and narrows back; replacing it halved GELU's time.
/// </remarks>
internal static class VectorExponential
{
    // ln(float.MaxValue) = 88.7228391…, and this is the largest float below it: e^Upper is finite.
    private const float Upper = 88.72283f;

    // e^Lower > 2⁻¹²⁶, so r > 0 at the lowest n (−126) and 2ⁿ·e^r stays a normal float.
    private const float Lower = -87.33f;

    private const float Log2E = 1.44269504088896341f;
    private const float Ln2High = 0.693359375f; // 9 significant bits: n·Ln2High is exact for |n| ≤ 2¹⁵
    private const float Ln2Low = -2.12194440e-4f; // ln 2 − Ln2High

    // Cephes' minimax coefficients of P(r) = (e^r − 1 − r) / r², highest degree first.
    private const float P0 = 1.9875691500e-4f;
    private const float P1 = 1.3981999507e-3f;
    private const float P2 = 8.3334519073e-3f;
    private const float P3 = 4.1665795894e-2f;
    private const float P4 = 1.6666665459e-1f;
    private const float P5 = 5.0000001201e-1f;

    private const int MantissaBits = 23;

    /// <summary>e^x for each lane of <paramref name="x"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        // Out-of-range and NaN lanes compute garbage here and are replaced below; no lane traps.
        var n = Vector512.Round(x * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2High), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Low), r);
        var polynomial = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        polynomial = Vector512.FusedMultiplyAdd(polynomial, r, Vector512.Create(P2));
        polynomial = Vector512.FusedMultiplyAdd(polynomial, r, Vector512.Create(P3));
        polynomial = Vector512.FusedMultiplyAdd(polynomial, r, Vector512.Create(P4));
        polynomial = Vector512.FusedMultiplyAdd(polynomial, r, Vector512.Create(P5));
        var mantissa = Vector512.FusedMultiplyAdd(polynomial, r * r, r) + Vector512<float>.One;
        var result = (mantissa.AsInt32() + Vector512.ShiftLeft(Vector512.ConvertToInt32Native(n), MantissaBits)).AsSingle();
        result = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(Upper)), Vector512.Create(float.PositiveInfinity), result);
        result = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(Lower)), Vector512<float>.Zero, result);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), result, x);
    }

    /// <summary>e^x for each lane of <paramref name="x"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Exp(Vector<float> x)
    {
        var n = Vector.Round(x * new Vector<float>(Log2E));
        var r = Vector.FusedMultiplyAdd(n, new Vector<float>(-Ln2High), x);
        r = Vector.FusedMultiplyAdd(n, new Vector<float>(-Ln2Low), r);
        var polynomial = Vector.FusedMultiplyAdd(new Vector<float>(P0), r, new Vector<float>(P1));
        polynomial = Vector.FusedMultiplyAdd(polynomial, r, new Vector<float>(P2));
        polynomial = Vector.FusedMultiplyAdd(polynomial, r, new Vector<float>(P3));
        polynomial = Vector.FusedMultiplyAdd(polynomial, r, new Vector<float>(P4));
        polynomial = Vector.FusedMultiplyAdd(polynomial, r, new Vector<float>(P5));
        var mantissa = Vector.FusedMultiplyAdd(polynomial, r * r, r) + Vector<float>.One;
        var result = Vector.AsVectorSingle(Vector.AsVectorInt32(mantissa) + Vector.ShiftLeft(Vector.ConvertToInt32Native(n), MantissaBits));
        result = Vector.ConditionalSelect(Vector.GreaterThan(x, new Vector<float>(Upper)), new Vector<float>(float.PositiveInfinity), result);
        result = Vector.ConditionalSelect(Vector.LessThan(x, new Vector<float>(Lower)), Vector<float>.Zero, result);
        return Vector.ConditionalSelect(Vector.Equals(x, x), result, x);
    }

    /// <summary>e^x, bit for bit what a vector lane gives.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        if (x > Upper) return float.PositiveInfinity;
        if (x < Lower) return 0f;
        if (float.IsNaN(x)) return x;
        var n = MathF.Round(x * Log2E);
        var r = MathF.FusedMultiplyAdd(n, -Ln2High, x);
        r = MathF.FusedMultiplyAdd(n, -Ln2Low, r);
        var polynomial = MathF.FusedMultiplyAdd(P0, r, P1);
        polynomial = MathF.FusedMultiplyAdd(polynomial, r, P2);
        polynomial = MathF.FusedMultiplyAdd(polynomial, r, P3);
        polynomial = MathF.FusedMultiplyAdd(polynomial, r, P4);
        polynomial = MathF.FusedMultiplyAdd(polynomial, r, P5);
        var mantissa = MathF.FusedMultiplyAdd(polynomial, r * r, r) + 1f;
        return BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(mantissa) + ((int)n << MantissaBits));
    }

    /// <summary>
    /// Writes the softmax of <paramref name="source"/>, <c>exp(s − max s) · (1 / Σ exp(s − max s))</c>, in three passes
    /// (the maximum; the exponentials and their sum; one multiply by the reciprocal), and returns the maximum and the sum,
    /// from which a cross-entropy takes its loss. An entry of −∞ gives exactly 0 when some entry is finite.
    /// </summary>
    /// <param name="source">Scores, n floats.</param>
    /// <param name="destination">Destination, n floats (overwritten; may be the same span as <paramref name="source"/>).</param>
    public static (float Maximum, float Sum) Softmax(ReadOnlySpan<float> source, Span<float> destination)
    {
        var maximum = TensorPrimitives.Max(source);
        var sum = ExponentiateShifted(source, maximum, destination);
        TensorPrimitives.Multiply(destination, 1f / sum, destination);
        return (maximum, sum);
    }

    /// <summary>Writes <c>destination = exp(source − shift)</c> and returns its sum: the middle pass of a softmax.</summary>
    /// <param name="source">Input, n floats.</param>
    /// <param name="shift">Subtracted from every input first (a softmax passes its row maximum).</param>
    /// <param name="destination">Destination, n floats (overwritten; may be the same span as <paramref name="source"/>).</param>
    /// <remarks>A source entry of −∞ gives exactly 0. The sum is taken in 512-bit lanes, then 256-bit lanes, then in order.</remarks>
    public static float ExponentiateShifted(ReadOnlySpan<float> source, float shift, Span<float> destination)
    {
        ref var input = ref MemoryMarshal.GetReference(source);
        ref var output = ref MemoryMarshal.GetReference(destination);
        nuint length = (nuint)source.Length, index = 0;
        var sum = 0f;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
        {
            var shifts = Vector512.Create(shift);
            var accumulator = Vector512<float>.Zero;
            for (; index + (nuint)Vector512<float>.Count <= length; index += (nuint)Vector512<float>.Count)
            {
                var exponential = Exp(Vector512.LoadUnsafe(ref input, index) - shifts);
                exponential.StoreUnsafe(ref output, index);
                accumulator += exponential;
            }

            sum += Vector512.Sum(accumulator);
        }

        if (Vector.IsHardwareAccelerated && length - index >= (nuint)Vector<float>.Count)
        {
            var shifts = new Vector<float>(shift);
            var accumulator = Vector<float>.Zero;
            for (; index + (nuint)Vector<float>.Count <= length; index += (nuint)Vector<float>.Count)
            {
                var exponential = Exp(Vector.LoadUnsafe(ref input, index) - shifts);
                exponential.StoreUnsafe(ref output, index);
                accumulator += exponential;
            }

            sum += Vector.Sum(accumulator);
        }

        for (; index < length; index++)
        {
            var exponential = Exp(Unsafe.Add(ref input, index) - shift);
            Unsafe.Add(ref output, index) = exponential;
            sum += exponential;
        }

        return sum;
    }
}
