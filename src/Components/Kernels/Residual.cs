using System.Numerics.Tensors;
using Pipelines.Components.Compute;

namespace Pipelines.Components.Kernels;

/// <summary>Residual connection: the element-wise sum of two equally shaped buffers.</summary>
/// <remarks>
/// <c>output = left + right</c>; backward adds the output gradient to both input gradients.
/// Spans may be the very same memory (in-place <c>x += f(x)</c>) but must not partially overlap.
/// </remarks>
public static class Residual
{
    // Below this many elements per chunk a task costs more than it saves.
    private const int MinimumChunk = 32 * 1024;

    /// <summary>Writes <c>output = left + right</c>.</summary>
    /// <param name="left">First summand, <c>count</c> floats.</param>
    /// <param name="right">Second summand, <c>count</c> floats.</param>
    /// <param name="output">Destination, <c>count</c> floats (overwritten).</param>
    /// <param name="count">Number of elements.</param>
    /// <param name="parallelism">Threads to use.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A span's length is not <paramref name="count"/>.</exception>
    public static unsafe void Forward(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> output, int count, Parallelism parallelism)
    {
        CheckForward(left, right, output, count);
        fixed (float* leftPointer = left, rightPointer = right, outputPointer = output)
        {
            parallelism.For(count, ((nint)leftPointer, (nint)rightPointer, (nint)outputPointer), static (state, start, end) => TensorPrimitives.Add(
                new ReadOnlySpan<float>((float*)state.Item1 + start, end - start),
                new ReadOnlySpan<float>((float*)state.Item2 + start, end - start),
                new Span<float>((float*)state.Item3 + start, end - start)), MinimumChunk);
        }
    }

    /// <summary>Adds <paramref name="outputGradient"/> to <paramref name="leftGradient"/> and <paramref name="rightGradient"/>.</summary>
    /// <param name="outputGradient">Gradient of the loss with respect to the output, <c>count</c> floats.</param>
    /// <param name="leftGradient">Accumulated (<c>+=</c>); <c>count</c> floats, or empty to skip.</param>
    /// <param name="rightGradient">Accumulated (<c>+=</c>); <c>count</c> floats, or empty to skip.</param>
    /// <param name="count">Number of elements.</param>
    /// <param name="parallelism">Threads to use.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A non-empty span's length is not <paramref name="count"/>.</exception>
    public static unsafe void Backward(ReadOnlySpan<float> outputGradient, Span<float> leftGradient, Span<float> rightGradient, int count, Parallelism parallelism)
    {
        CheckBackward(outputGradient, leftGradient, rightGradient, count);
        fixed (float* outputGradientPointer = outputGradient, leftGradientPointer = leftGradient, rightGradientPointer = rightGradient)
        {
            float* outputGradientAddress = outputGradientPointer, leftAddress = leftGradientPointer, rightAddress = rightGradientPointer;
            bool hasLeft = !leftGradient.IsEmpty, hasRight = !rightGradient.IsEmpty;
            if (!hasLeft && !hasRight) return;
            parallelism.For(count, (start, end) =>
            {
                var length = end - start;
                var incoming = new ReadOnlySpan<float>(outputGradientAddress + start, length);
                if (hasLeft)
                {
                    var destination = new Span<float>(leftAddress + start, length);
                    TensorPrimitives.Add(destination, incoming, destination);
                }

                if (hasRight)
                {
                    var destination = new Span<float>(rightAddress + start, length);
                    TensorPrimitives.Add(destination, incoming, destination);
                }
            }, MinimumChunk);
        }
    }

    private static void CheckForward(ReadOnlySpan<float> left, ReadOnlySpan<float> right, ReadOnlySpan<float> output, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        KernelGuard.RequireLength(left.Length, count, nameof(left));
        KernelGuard.RequireLength(right.Length, count, nameof(right));
        KernelGuard.RequireLength(output.Length, count, nameof(output));
    }

    private static void CheckBackward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> leftGradient, ReadOnlySpan<float> rightGradient, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        KernelGuard.RequireLength(outputGradient.Length, count, nameof(outputGradient));
        if (!leftGradient.IsEmpty) KernelGuard.RequireLength(leftGradient.Length, count, nameof(leftGradient));
        if (!rightGradient.IsEmpty) KernelGuard.RequireLength(rightGradient.Length, count, nameof(rightGradient));
    }

    /// <summary>Plain single-threaded loops: the specification the fast kernel is tested against.</summary>
    public static class Reference
    {
        /// <summary>Writes <c>output = left + right</c>; see <see cref="Residual.Forward"/>.</summary>
        /// <param name="left">First summand, <c>count</c> floats.</param>
        /// <param name="right">Second summand, <c>count</c> floats.</param>
        /// <param name="output">Destination, <c>count</c> floats (overwritten).</param>
        /// <param name="count">Number of elements.</param>
        public static void Forward(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> output, int count)
        {
            CheckForward(left, right, output, count);
            for (var index = 0; index < count; index++) output[index] = left[index] + right[index];
        }

        /// <summary>Adds the output gradient to both input gradients; see <see cref="Residual.Backward"/>.</summary>
        /// <param name="outputGradient">Gradient with respect to the output, <c>count</c> floats.</param>
        /// <param name="leftGradient">Accumulated; <c>count</c> floats, or empty to skip.</param>
        /// <param name="rightGradient">Accumulated; <c>count</c> floats, or empty to skip.</param>
        /// <param name="count">Number of elements.</param>
        public static void Backward(ReadOnlySpan<float> outputGradient, Span<float> leftGradient, Span<float> rightGradient, int count)
        {
            CheckBackward(outputGradient, leftGradient, rightGradient, count);
            for (var index = 0; index < count; index++)
            {
                if (!leftGradient.IsEmpty) leftGradient[index] += outputGradient[index];
                if (!rightGradient.IsEmpty) rightGradient[index] += outputGradient[index];
            }
        }
    }
}
