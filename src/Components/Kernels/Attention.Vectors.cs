using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Pipelines.Components.Kernels;

public static partial class Attention
{
    // The inner loops of attention, register-blocked over Vector<float> so that an hs-long row costs a few
    // instructions rather than a library call. Each block keeps eight independent accumulators (four vectors,
    // two interleaved halves of the sum) to hide FMA latency. A lane's result depends only on its own inputs,
    // never on where its block starts, so overlapping a final block with the previous one is exact.

    /// <summary>destination[j] = scale · Σ_d vector[d] · columns[d·stride + j] for j &lt; destination.Length.</summary>
    /// <remarks>Used with <c>columns</c> = Kᵀ (or Vᵀ) laid out [hs, T], which makes a query's scores one pass without horizontal sums.</remarks>
    private static void MultiplyByColumns(ReadOnlySpan<float> vector, ReadOnlySpan<float> columns, int stride, float scale, Span<float> destination)
    {
        var count = destination.Length;
        var depth = vector.Length;
        if (count == 0) return;
        if ((long)(depth - 1) * stride + count > columns.Length)
            throw new UnreachableException("Attention scratch is smaller than the transposed head.");
        var width = Vector<float>.Count;
        if (count >= 4 * width)
        {
            var last = count - 4 * width;
            for (var column = 0; ; column = Math.Min(column + 4 * width, last))
            {
                MultiplyByColumnsBlock4(vector, columns, stride, scale, destination, column);
                if (column == last) return;
            }
        }

        if (count >= width)
        {
            var last = count - width;
            for (var column = 0; ; column = Math.Min(column + width, last))
            {
                MultiplyByColumnsBlock1(vector, columns, stride, scale, destination, column);
                if (column == last) return;
            }
        }

        for (var column = 0; column < count; column++)
        {
            var sum = 0f;
            for (var index = 0; index < depth; index++) sum += vector[index] * columns[index * stride + column];
            destination[column] = sum * scale;
        }
    }

    /// <summary>Columns [column, column + 4·width) of <see cref="MultiplyByColumns"/>; bounds checked by the caller.</summary>
    private static void MultiplyByColumnsBlock4(ReadOnlySpan<float> vector, ReadOnlySpan<float> columns, int stride, float scale, Span<float> destination, int column)
    {
        ref var columnsStart = ref MemoryMarshal.GetReference(columns);
        var (width, depth) = (Vector<float>.Count, vector.Length);
        var (first, second, third) = ((nuint)width, (nuint)(2 * width), (nuint)(3 * width));
        Vector<float> even0 = default, even1 = default, even2 = default, even3 = default;
        Vector<float> odd0 = default, odd1 = default, odd2 = default, odd3 = default;
        var offset = (nuint)column;
        var index = 0;
        for (; index + 1 < depth; index += 2, offset += (nuint)(2 * stride))
        {
            var evenWeight = new Vector<float>(vector[index]);
            var oddWeight = new Vector<float>(vector[index + 1]);
            var next = offset + (nuint)stride;
            even0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, offset), evenWeight, even0);
            even1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, offset + first), evenWeight, even1);
            even2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, offset + second), evenWeight, even2);
            even3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, offset + third), evenWeight, even3);
            odd0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, next), oddWeight, odd0);
            odd1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, next + first), oddWeight, odd1);
            odd2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, next + second), oddWeight, odd2);
            odd3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, next + third), oddWeight, odd3);
        }

        if (index < depth)
        {
            var weight = new Vector<float>(vector[index]);
            even0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, offset), weight, even0);
            even1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, offset + first), weight, even1);
            even2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, offset + second), weight, even2);
            even3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, offset + third), weight, even3);
        }

        var scaleVector = new Vector<float>(scale);
        var destinationSlice = destination.Slice(column, 4 * width);
        ((even0 + odd0) * scaleVector).CopyTo(destinationSlice);
        ((even1 + odd1) * scaleVector).CopyTo(destinationSlice[width..]);
        ((even2 + odd2) * scaleVector).CopyTo(destinationSlice[(2 * width)..]);
        ((even3 + odd3) * scaleVector).CopyTo(destinationSlice[(3 * width)..]);
    }

    /// <summary>Columns [column, column + width) of <see cref="MultiplyByColumns"/>; bounds checked by the caller.</summary>
    private static void MultiplyByColumnsBlock1(ReadOnlySpan<float> vector, ReadOnlySpan<float> columns, int stride, float scale, Span<float> destination, int column)
    {
        ref var columnsStart = ref MemoryMarshal.GetReference(columns);
        var depth = vector.Length;
        Vector<float> even = default, odd = default;
        var offset = (nuint)column;
        var index = 0;
        for (; index + 1 < depth; index += 2, offset += (nuint)(2 * stride))
        {
            even = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, offset), new Vector<float>(vector[index]), even);
            odd = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, offset + (nuint)stride), new Vector<float>(vector[index + 1]), odd);
        }

        if (index < depth) even = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref columnsStart, offset), new Vector<float>(vector[index]), even);
        ((even + odd) * new Vector<float>(scale)).CopyTo(destination[column..]);
    }

    /// <summary>destination[d] += Σ_r weights[r·weightStride] · rows[r·rowStride + d] for r &lt; count, d &lt; destination.Length.</summary>
    private static void AddWeightedRows(ReadOnlySpan<float> weights, int weightStride, int count, ReadOnlySpan<float> rows, int rowStride,
        Span<float> destination)
    {
        var depth = destination.Length;
        if (count == 0) return;
        if ((long)(count - 1) * rowStride + depth > rows.Length || (long)(count - 1) * weightStride >= weights.Length)
            throw new UnreachableException("Attention rows or weights are shorter than the count implies.");
        var width = Vector<float>.Count;
        var channel = 0;
        for (; channel <= depth - 4 * width; channel += 4 * width)
            AddWeightedRowsBlock4(weights, weightStride, count, rows, rowStride, destination, channel);

        for (; channel <= depth - width; channel += width)
            AddWeightedRowsBlock1(weights, weightStride, count, rows, rowStride, destination, channel);

        for (; channel < depth; channel++)
        {
            var sum = 0f;
            for (var row = 0; row < count; row++) sum += weights[row * weightStride] * rows[row * rowStride + channel];
            destination[channel] += sum;
        }
    }

    /// <summary>Channels [channel, channel + 4·width) of <see cref="AddWeightedRows"/>; bounds checked by the caller.</summary>
    private static void AddWeightedRowsBlock4(ReadOnlySpan<float> weights, int weightStride, int count, ReadOnlySpan<float> rows, int rowStride,
        Span<float> destination, int channel)
    {
        ref var rowsStart = ref MemoryMarshal.GetReference(rows);
        var width = Vector<float>.Count;
        var (first, second, third) = ((nuint)width, (nuint)(2 * width), (nuint)(3 * width));
        Vector<float> even0 = default, even1 = default, even2 = default, even3 = default;
        Vector<float> odd0 = default, odd1 = default, odd2 = default, odd3 = default;
        var offset = (nuint)channel;
        var row = 0;
        for (; row + 1 < count; row += 2, offset += (nuint)(2 * rowStride))
        {
            var evenWeight = new Vector<float>(weights[row * weightStride]);
            var oddWeight = new Vector<float>(weights[(row + 1) * weightStride]);
            var next = offset + (nuint)rowStride;
            even0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, offset), evenWeight, even0);
            even1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, offset + first), evenWeight, even1);
            even2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, offset + second), evenWeight, even2);
            even3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, offset + third), evenWeight, even3);
            odd0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, next), oddWeight, odd0);
            odd1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, next + first), oddWeight, odd1);
            odd2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, next + second), oddWeight, odd2);
            odd3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, next + third), oddWeight, odd3);
        }

        if (row < count)
        {
            var weight = new Vector<float>(weights[row * weightStride]);
            even0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, offset), weight, even0);
            even1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, offset + first), weight, even1);
            even2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, offset + second), weight, even2);
            even3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, offset + third), weight, even3);
        }

        var destinationSlice = destination.Slice(channel, 4 * width);
        AddTo(even0 + odd0, destinationSlice);
        AddTo(even1 + odd1, destinationSlice[width..]);
        AddTo(even2 + odd2, destinationSlice[(2 * width)..]);
        AddTo(even3 + odd3, destinationSlice[(3 * width)..]);
    }

    /// <summary>Channels [channel, channel + width) of <see cref="AddWeightedRows"/>; bounds checked by the caller.</summary>
    private static void AddWeightedRowsBlock1(ReadOnlySpan<float> weights, int weightStride, int count, ReadOnlySpan<float> rows, int rowStride,
        Span<float> destination, int channel)
    {
        ref var rowsStart = ref MemoryMarshal.GetReference(rows);
        Vector<float> even = default, odd = default;
        var offset = (nuint)channel;
        var row = 0;
        for (; row + 1 < count; row += 2, offset += (nuint)(2 * rowStride))
        {
            even = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, offset), new Vector<float>(weights[row * weightStride]), even);
            odd = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, offset + (nuint)rowStride), new Vector<float>(weights[(row + 1) * weightStride]), odd);
        }

        if (row < count) even = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref rowsStart, offset), new Vector<float>(weights[row * weightStride]), even);
        AddTo(even + odd, destination[channel..]);
    }

    private static void AddTo(Vector<float> value, Span<float> destination) => (new Vector<float>(destination) + value).CopyTo(destination);

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

    /// <summary>gathered[j·hs + d] = sequence[j·rowStride + offset + d]: one head's rows made contiguous, [T, hs].</summary>
    private static void Gather(ReadOnlySpan<float> sequence, int offset, int rowStride, int tokenCount, int headSize, Span<float> gathered)
    {
        for (var token = 0; token < tokenCount; token++)
            sequence.Slice(token * rowStride + offset, headSize).CopyTo(gathered.Slice(token * headSize, headSize));
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
