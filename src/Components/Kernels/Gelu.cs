using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Pipelines.Components.Compute;

namespace Pipelines.Components.Kernels;

/// <summary>GELU activation in its tanh approximation, as PyTorch's <c>gelu(approximate="tanh")</c>.</summary>
/// <remarks>
/// <c>y = 0.5·x·(1 + tanh(u))</c> with <c>u = √(2/π)·(x + 0.044715·x³)</c> (Hendrycks and Gimpel,
/// arXiv:1606.08415); <c>dy/dx = 0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²)</c>.
/// The fast kernel uses the identity <c>0.5·(1 + tanh u) = σ(2u)</c>, so one vector exponential replaces
/// the tanh: <c>y = x·σ(2u)</c>, <c>dy/dx = σ + 2·x·σ·(1 − σ)·√(2/π)·(1 + 3·0.044715·x²)</c>. It is the
/// same function, rounded differently (and more accurately: <c>1 ± tanh u</c> cancels for large |x|).
/// The exponential is <see cref="VectorExponential"/>'s, whose scalar gives a vector lane's bits, so the results
/// are the same for any thread count.
/// </remarks>
public static class Gelu
{
    private const float Beta = 0.7978845608028654f; // √(2/π)
    private const float Kappa = 0.044715f;
    private const int MinimumChunk = 16 * 1024; // elements; a chunk below this costs more to schedule than to run

    // Backward writes σ(1 − σ) as e·σ² with e = exp(−2u), which keeps its precision where σ rounds to 1;
    // capping the exponent keeps e finite where σ underflows, so e·σ·σ is 0 rather than ∞·0.
    private const float MaximumExponent = 80f;

    /// <summary>Writes <c>output = gelu(input)</c> element-wise.</summary>
    /// <param name="input">Input, <c>count</c> floats.</param>
    /// <param name="output">Destination, <c>count</c> floats (overwritten; may be the same span as <paramref name="input"/>).</param>
    /// <param name="count">Number of elements.</param>
    /// <param name="parallelism">Threads to use.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A span's length is not <paramref name="count"/>.</exception>
    public static unsafe void Forward(ReadOnlySpan<float> input, Span<float> output, int count, Parallelism parallelism)
    {
        CheckForward(input, output, count);
        fixed (float* inputPointer = input, outputPointer = output)
        {
            parallelism.For(count, ((nint)inputPointer, (nint)outputPointer), static (state, start, end) => ForwardRange(
                new ReadOnlySpan<float>((float*)state.Item1 + start, end - start),
                new Span<float>((float*)state.Item2 + start, end - start)), MinimumChunk);
        }
    }

    /// <summary>Adds <c>outputGradient · gelu'(input)</c> to <paramref name="inputGradient"/>.</summary>
    /// <param name="outputGradient">Gradient with respect to the output, <c>count</c> floats.</param>
    /// <param name="input">The forward input, <c>count</c> floats.</param>
    /// <param name="inputGradient">Accumulated (<c>+=</c>), <c>count</c> floats.</param>
    /// <param name="count">Number of elements.</param>
    /// <param name="parallelism">Threads to use.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A span's length is not <paramref name="count"/>.</exception>
    public static void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, Span<float> inputGradient, int count, Parallelism parallelism) =>
        Backward(outputGradient, input, inputGradient, count, parallelism, overwrite: false);

    /// <summary>
    /// As the public <c>Backward</c>, but with <paramref name="overwrite"/> writes <c>outputGradient · gelu'(input)</c> instead of
    /// adding it (the models' temporaries need no clearing first); then <paramref name="inputGradient"/> may be the same span as
    /// <paramref name="outputGradient"/> (each element is read before it is written).
    /// </summary>
    internal static unsafe void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, Span<float> inputGradient, int count, Parallelism parallelism, bool overwrite)
    {
        CheckBackward(outputGradient, input, inputGradient, count);
        fixed (float* outputGradientPointer = outputGradient, inputPointer = input, inputGradientPointer = inputGradient)
        {
            parallelism.For(count, ((nint)outputGradientPointer, (nint)inputPointer, (nint)inputGradientPointer, overwrite), static (state, start, end) => BackwardRange(
                new ReadOnlySpan<float>((float*)state.Item1 + start, end - start),
                new ReadOnlySpan<float>((float*)state.Item2 + start, end - start),
                new Span<float>((float*)state.Item3 + start, end - start), state.Item4), MinimumChunk);
        }
    }

    private static void ForwardRange(ReadOnlySpan<float> input, Span<float> output)
    {
        ref var x = ref MemoryMarshal.GetReference(input);
        ref var y = ref MemoryMarshal.GetReference(output);
        nuint count = (nuint)input.Length, index = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; index + (nuint)Vector512<float>.Count <= count; index += (nuint)Vector512<float>.Count)
            {
                var value = Vector512.LoadUnsafe(ref x, index);
                var negativeTwiceInner = value * (Vector512.Create(-2f * Beta) + Vector512.Create(-2f * Beta * Kappa) * value * value);
                (value / (Vector512<float>.One + VectorExponential.Exp(negativeTwiceInner))).StoreUnsafe(ref y, index);
            }
        }

        if (Vector.IsHardwareAccelerated)
        {
            for (; index + (nuint)Vector<float>.Count <= count; index += (nuint)Vector<float>.Count)
            {
                var value = Vector.LoadUnsafe(ref x, index);
                var negativeTwiceInner = value * (new Vector<float>(-2f * Beta) + new Vector<float>(-2f * Beta * Kappa) * value * value);
                (value / (Vector<float>.One + VectorExponential.Exp(negativeTwiceInner))).StoreUnsafe(ref y, index);
            }
        }

        for (; index < count; index++)
        {
            var value = Unsafe.Add(ref x, index);
            Unsafe.Add(ref y, index) = value / (1f + VectorExponential.Exp(value * (-2f * Beta + -2f * Beta * Kappa * value * value)));
        }
    }

    private static void BackwardRange(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, Span<float> inputGradient, bool overwrite)
    {
        ref var dy = ref MemoryMarshal.GetReference(outputGradient);
        ref var x = ref MemoryMarshal.GetReference(input);
        ref var dx = ref MemoryMarshal.GetReference(inputGradient);
        nuint count = (nuint)input.Length, index = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; index + (nuint)Vector512<float>.Count <= count; index += (nuint)Vector512<float>.Count)
            {
                var value = Vector512.LoadUnsafe(ref x, index);
                var square = value * value;
                var exponential = VectorExponential.Exp(Vector512.Min(value * (Vector512.Create(-2f * Beta) + Vector512.Create(-2f * Beta * Kappa) * square), Vector512.Create(MaximumExponent)));
                var sigmoid = Vector512<float>.One / (Vector512<float>.One + exponential);
                var slope = sigmoid + Vector512.Create(2f * Beta) * value * (exponential * sigmoid) * sigmoid * (Vector512<float>.One + Vector512.Create(3f * Kappa) * square);
                ((overwrite ? Vector512<float>.Zero : Vector512.LoadUnsafe(ref dx, index)) + Vector512.LoadUnsafe(ref dy, index) * slope).StoreUnsafe(ref dx, index);
            }
        }

        if (Vector.IsHardwareAccelerated)
        {
            for (; index + (nuint)Vector<float>.Count <= count; index += (nuint)Vector<float>.Count)
            {
                var value = Vector.LoadUnsafe(ref x, index);
                var square = value * value;
                var exponential = VectorExponential.Exp(Vector.Min(value * (new Vector<float>(-2f * Beta) + new Vector<float>(-2f * Beta * Kappa) * square), new Vector<float>(MaximumExponent)));
                var sigmoid = Vector<float>.One / (Vector<float>.One + exponential);
                var slope = sigmoid + new Vector<float>(2f * Beta) * value * (exponential * sigmoid) * sigmoid * (Vector<float>.One + new Vector<float>(3f * Kappa) * square);
                ((overwrite ? Vector<float>.Zero : Vector.LoadUnsafe(ref dx, index)) + Vector.LoadUnsafe(ref dy, index) * slope).StoreUnsafe(ref dx, index);
            }
        }

        for (; index < count; index++)
        {
            var value = Unsafe.Add(ref x, index);
            var square = value * value;
            var exponential = VectorExponential.Exp(MathF.Min(value * (-2f * Beta + -2f * Beta * Kappa * square), MaximumExponent));
            var sigmoid = 1f / (1f + exponential);
            var slope = sigmoid + 2f * Beta * value * (exponential * sigmoid) * sigmoid * (1f + 3f * Kappa * square);
            Unsafe.Add(ref dx, index) = (overwrite ? 0f : Unsafe.Add(ref dx, index)) + Unsafe.Add(ref dy, index) * slope;
        }
    }

    private static void CheckForward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        KernelGuard.RequireLength(input.Length, count, nameof(input));
        KernelGuard.RequireLength(output.Length, count, nameof(output));
    }

    private static void CheckBackward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> inputGradient, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        KernelGuard.RequireLength(outputGradient.Length, count, nameof(outputGradient));
        KernelGuard.RequireLength(input.Length, count, nameof(input));
        KernelGuard.RequireLength(inputGradient.Length, count, nameof(inputGradient));
    }

    /// <summary>Plain single-threaded loops in PyTorch's own form: the specification the fast kernel is tested against.</summary>
    public static class Reference
    {
        /// <summary>Writes <c>output = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))</c>; see <see cref="Gelu.Forward"/>.</summary>
        /// <param name="input">Input, <c>count</c> floats.</param>
        /// <param name="output">Destination, <c>count</c> floats (overwritten).</param>
        /// <param name="count">Number of elements.</param>
        public static void Forward(ReadOnlySpan<float> input, Span<float> output, int count)
        {
            CheckForward(input, output, count);
            for (var index = 0; index < count; index++)
            {
                var x = input[index];
                var inner = Beta * (x + Kappa * x * x * x);
                output[index] = 0.5f * x * (1f + MathF.Tanh(inner));
            }
        }

        /// <summary>Adds <c>outputGradient · gelu'(input)</c> to the input gradient; see <see cref="Gelu.Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, Parallelism)"/>.</summary>
        /// <param name="outputGradient">Gradient with respect to the output, <c>count</c> floats.</param>
        /// <param name="input">The forward input, <c>count</c> floats.</param>
        /// <param name="inputGradient">Accumulated (<c>+=</c>), <c>count</c> floats.</param>
        /// <param name="count">Number of elements.</param>
        public static void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, Span<float> inputGradient, int count)
        {
            CheckBackward(outputGradient, input, inputGradient, count);
            for (var index = 0; index < count; index++)
            {
                var x = input[index];
                var square = x * x;
                var tanhInner = MathF.Tanh(Beta * (x + Kappa * square * x));
                var left = 0.5f * x;
                var right = 1f + tanhInner;
                var leftDerivative = 0.5f * right;
                var rightDerivative = left * (1f - tanhInner * tanhInner) * Beta * (1f + 3f * Kappa * square);
                inputGradient[index] += outputGradient[index] * (leftDerivative + rightDerivative);
            }
        }
    }
}
