using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Pipelines.Components.Kernels;

public static partial class Attention
{
    // The three inner loops of attention, register-blocked over Vector<float> so that hs-long rows cost a few
    // instructions rather than a library call each. Each keeps four independent accumulators to hide FMA
    // latency, then falls back to one vector, then to scalars, so every shape takes a correct path.

    /// <summary>destination[j] = scale · Σ_d vector[d] · columns[d·stride + j] for j &lt; destination.Length.</summary>
    /// <remarks>Used with <c>columns</c> = Kᵀ (or Vᵀ) laid out [hs, T], which makes a query's scores one pass without horizontal sums.</remarks>
    private static void MultiplyByColumns(ReadOnlySpan<float> vector, ReadOnlySpan<float> columns, int stride, float scale, Span<float> destination)
    {
        var count = destination.Length;
        var depth = vector.Length;
        if (count == 0) return;
        if ((long)(depth - 1) * stride + count > columns.Length)
            throw new UnreachableException("Attention scratch is smaller than the transposed head.");
        ref var columnsStart = ref MemoryMarshal.GetReference(columns);
        ref var destinationStart = ref MemoryMarshal.GetReference(destination);
        var width = Vector<float>.Count;
        var scaleVector = new Vector<float>(scale);
        var column = 0;
        for (; column <= count - 4 * width; column += 4 * width)
        {
            Vector<float> sum0 = default, sum1 = default, sum2 = default, sum3 = default;
            var offset = (nuint)column;
            for (var index = 0; index < depth; index++, offset += (nuint)stride)
            {
                var weight = new Vector<float>(vector[index]);
                sum0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, offset), weight, sum0);
                sum1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, offset + (nuint)width), weight, sum1);
                sum2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, offset + (nuint)(2 * width)), weight, sum2);
                sum3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, offset + (nuint)(3 * width)), weight, sum3);
            }

            (sum0 * scaleVector).StoreUnsafe(ref destinationStart, (nuint)column);
            (sum1 * scaleVector).StoreUnsafe(ref destinationStart, (nuint)(column + width));
            (sum2 * scaleVector).StoreUnsafe(ref destinationStart, (nuint)(column + 2 * width));
            (sum3 * scaleVector).StoreUnsafe(ref destinationStart, (nuint)(column + 3 * width));
        }

        for (; column <= count - width; column += width)
        {
            Vector<float> sum = default;
            var offset = (nuint)column;
            for (var index = 0; index < depth; index++, offset += (nuint)stride)
                sum = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, offset), new Vector<float>(vector[index]), sum);
            (sum * scaleVector).StoreUnsafe(ref destinationStart, (nuint)column);
        }

        for (; column < count; column++)
        {
            var sum = 0f;
            for (var index = 0; index < depth; index++) sum += vector[index] * columns[index * stride + column];
            destination[column] = sum * scale;
        }
    }

    /// <summary>
    /// destination[d] += Σ_r weights[r·weightStride] · rows[r·rowStride + d] for r &lt; count, d &lt; destination.Length;
    /// zero weights are skipped.
    /// </summary>
    private static void AddWeightedRows(ReadOnlySpan<float> weights, int weightStride, int count, ReadOnlySpan<float> rows, int rowStride,
        Span<float> destination)
    {
        var depth = destination.Length;
        if (count == 0) return;
        if ((long)(count - 1) * rowStride + depth > rows.Length || (long)(count - 1) * weightStride >= weights.Length)
            throw new UnreachableException("Attention rows or weights are shorter than the count implies.");
        ref var rowsStart = ref MemoryMarshal.GetReference(rows);
        ref var destinationStart = ref MemoryMarshal.GetReference(destination);
        var width = Vector<float>.Count;
        var channel = 0;
        for (; channel <= depth - 4 * width; channel += 4 * width)
        {
            Vector<float> sum0 = default, sum1 = default, sum2 = default, sum3 = default;
            var offset = (nuint)channel;
            for (var row = 0; row < count; row++, offset += (nuint)rowStride)
            {
                var scalar = weights[row * weightStride];
                if (scalar == 0f) continue;
                var weight = new Vector<float>(scalar);
                sum0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, offset), weight, sum0);
                sum1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, offset + (nuint)width), weight, sum1);
                sum2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, offset + (nuint)(2 * width)), weight, sum2);
                sum3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, offset + (nuint)(3 * width)), weight, sum3);
            }

            (Vector.LoadUnsafe(ref destinationStart, (nuint)channel) + sum0).StoreUnsafe(ref destinationStart, (nuint)channel);
            (Vector.LoadUnsafe(ref destinationStart, (nuint)(channel + width)) + sum1).StoreUnsafe(ref destinationStart, (nuint)(channel + width));
            (Vector.LoadUnsafe(ref destinationStart, (nuint)(channel + 2 * width)) + sum2).StoreUnsafe(ref destinationStart, (nuint)(channel + 2 * width));
            (Vector.LoadUnsafe(ref destinationStart, (nuint)(channel + 3 * width)) + sum3).StoreUnsafe(ref destinationStart, (nuint)(channel + 3 * width));
        }

        for (; channel <= depth - width; channel += width)
        {
            Vector<float> sum = default;
            var offset = (nuint)channel;
            for (var row = 0; row < count; row++, offset += (nuint)rowStride)
            {
                var scalar = weights[row * weightStride];
                if (scalar != 0f) sum = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, offset), new Vector<float>(scalar), sum);
            }

            (Vector.LoadUnsafe(ref destinationStart, (nuint)channel) + sum).StoreUnsafe(ref destinationStart, (nuint)channel);
        }

        for (; channel < depth; channel++)
        {
            var sum = 0f;
            for (var row = 0; row < count; row++)
            {
                var scalar = weights[row * weightStride];
                if (scalar != 0f) sum += scalar * rows[row * rowStride + channel];
            }

            destination[channel] += sum;
        }
    }

    /// <summary>destination += multiplier · source (equal lengths).</summary>
    private static void MultiplyAdd(ReadOnlySpan<float> source, float multiplier, Span<float> destination)
    {
        var count = source.Length;
        if (destination.Length != count)
            throw new UnreachableException("Attention rows differ in length.");
        ref var sourceStart = ref MemoryMarshal.GetReference(source);
        ref var destinationStart = ref MemoryMarshal.GetReference(destination);
        var width = Vector<float>.Count;
        var weight = new Vector<float>(multiplier);
        var index = 0;
        for (; index <= count - width; index += width)
        {
            var offset = (nuint)index;
            Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref sourceStart, offset), weight, Vector.LoadUnsafe(ref destinationStart, offset))
                .StoreUnsafe(ref destinationStart, offset);
        }

        for (; index < count; index++) destination[index] += multiplier * source[index];
    }

    /// <summary>transposed[d·T + j] = sequence[j·rowStride + offset + d]: one head's keys or values as [hs, T].</summary>
    private static void Transpose(ReadOnlySpan<float> sequence, int offset, int rowStride, int tokenCount, int headSize, Span<float> transposed)
    {
        for (var token = 0; token < tokenCount; token++)
        {
            var row = sequence.Slice(token * rowStride + offset, headSize);
            for (var index = 0; index < headSize; index++) transposed[index * tokenCount + token] = row[index];
        }
    }
}
