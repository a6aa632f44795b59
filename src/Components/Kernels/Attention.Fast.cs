using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Pipelines.Components.Compute;

namespace Pipelines.Components.Kernels;

public static partial class Attention
{
    // Each (batch, head) pair is one unit of work, and within it each block of queries is a handful of small
    // matrix products run by Gemm on the calling thread: scores = Q·Kᵀ, y = P·V forward; dP = dy·Vᵀ,
    // dq += dS·K, dk += dSᵀ·Q, dv += Pᵀ·dy backward. Gemm reads q, k, v in place through leading dimensions
    // (3C apart in qkv), so nothing is gathered. Under a causal mask a block of queries ending at row e sees
    // only keys [0, e), so each product stops there: about 3/4 of the full work with T = 128 and 64-row blocks.

    /// <summary>Forward for the (batch, head) pairs [start, end); pair = batch·H + head.</summary>
    private static void ForwardPairs(ReadOnlySpan<float> qkv, ReadOnlySpan<byte> keyMask, Span<float> output, Span<float> probabilities,
        int start, int end, AttentionShape shape, bool causal)
    {
        var (tokenCount, channels, headSize, rowStride) = (shape.TokenCount, shape.Channels, shape.HeadSize, shape.RowStride);
        for (var pair = start; pair < end; pair++)
        {
            var (batch, head) = Math.DivRem(pair, shape.HeadCount);
            var sequence = qkv.Slice(batch * tokenCount * rowStride, tokenCount * rowStride);
            var queries = sequence[(head * headSize)..];
            var keys = sequence[(channels + head * headSize)..];
            var values = sequence[(2 * channels + head * headSize)..];
            var mask = keyMask.IsEmpty ? default : keyMask.Slice(batch * tokenCount, tokenCount);
            var headProbabilities = probabilities.Slice(pair * tokenCount * tokenCount, tokenCount * tokenCount);
            for (var blockStart = 0; blockStart < tokenCount; blockStart += QueryBlockRows)
            {
                var blockRows = Math.Min(QueryBlockRows, tokenCount - blockStart);
                var extent = causal ? blockStart + blockRows : tokenCount;
                var scores = headProbabilities[(blockStart * tokenCount)..];
                Gemm.Multiply(queries[(blockStart * rowStride)..], rowStride, false, keys, rowStride, true, scores, tokenCount,
                    blockRows, extent, headSize, shape.Scale, 0f, Parallelism.Sequential);
                for (var blockRow = 0; blockRow < blockRows; blockRow++)
                {
                    var query = blockStart + blockRow;
                    var visibleCount = causal ? query + 1 : tokenCount;
                    var row = scores.Slice(blockRow * tokenCount, tokenCount);
                    var visible = row[..visibleCount];
                    row[visibleCount..].Clear();
                    if (!mask.IsEmpty)
                    {
                        for (var key = 0; key < visibleCount; key++)
                        {
                            if (mask[key] == 0) visible[key] = float.NegativeInfinity;
                        }
                    }

                    // Validation guarantees a visible key, so the maximum is finite; masked scores of −∞ become exactly 0,
                    // which backward relies on.
                    VectorExponential.Softmax(visible, visible);
                }

                Gemm.Multiply(scores, tokenCount, false, values, rowStride, false,
                    output[((batch * tokenCount + blockStart) * channels + head * headSize)..], channels,
                    blockRows, headSize, extent, 1f, 0f, Parallelism.Sequential);
            }
        }
    }

    /// <summary>Backward for the (batch, head) pairs [start, end), with one block of dS rows [block, T] of per-thread scratch.</summary>
    private static void BackwardPairs(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> qkv, ReadOnlySpan<float> probabilities,
        Span<float> qkvGradient, int start, int end, AttentionShape shape, bool overwrite)
    {
        var scratchLength = QueryBlockRows * shape.TokenCount;
        float[]? rented = null;
        var scoreGradients = scratchLength <= StackScratchLimit
            ? stackalloc float[scratchLength]
            : (rented = ArrayPool<float>.Shared.Rent(scratchLength)).AsSpan(0, scratchLength);
        try
        {
            for (var pair = start; pair < end; pair++)
                BackwardPair(outputGradient, qkv, probabilities, qkvGradient, pair, shape, scoreGradients, overwrite);
        }
        finally
        {
            if (rented is not null) ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>Clears columns [0, <paramref name="width"/>) of rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) of a matrix with rows <paramref name="stride"/> apart.</summary>
    private static void ClearRows(Span<float> matrix, int stride, int width, int firstRow, int endRow)
    {
        for (var row = firstRow; row < endRow; row++) matrix.Slice(row * stride, width).Clear();
    }

    /// <summary>
    /// One (batch, head) pair, a block of queries at a time: dP = dy·Vᵀ, dS = P ⊙ (dP − rowsum(P ⊙ dP)) / √hs in
    /// place, then dq += dS·K, dk += dSᵀ·Q and dv += Pᵀ·dy over the keys the block can see. With
    /// <paramref name="overwrite"/> the pair's q, k and v columns are written, not added to: each block's dq rows are its
    /// own (beta 0), the first block's dk and dv products write the keys it sees (beta 0) and the keys past them are
    /// cleared before later blocks add to them, which is the arithmetic of accumulating into zeros.
    /// </summary>
    private static void BackwardPair(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> qkv, ReadOnlySpan<float> probabilities,
        Span<float> qkvGradient, int pair, AttentionShape shape, Span<float> scoreGradients, bool overwrite)
    {
        var (tokenCount, channels, headSize, rowStride) = (shape.TokenCount, shape.Channels, shape.HeadSize, shape.RowStride);
        var (batch, head) = Math.DivRem(pair, shape.HeadCount);
        var sequenceOffset = batch * tokenCount * rowStride;
        var (queryBase, keyBase, valueBase) = (head * headSize, channels + head * headSize, 2 * channels + head * headSize);
        var sequence = qkv.Slice(sequenceOffset, tokenCount * rowStride);
        var sequenceGradient = qkvGradient.Slice(sequenceOffset, tokenCount * rowStride);
        var queries = sequence[queryBase..];
        var keys = sequence[keyBase..];
        var values = sequence[valueBase..];
        var queryGradients = sequenceGradient[queryBase..];
        var keyGradients = sequenceGradient[keyBase..];
        var valueGradients = sequenceGradient[valueBase..];
        var headGradient = outputGradient.Slice(batch * tokenCount * channels + head * headSize);
        var headProbabilities = probabilities.Slice(pair * tokenCount * tokenCount, tokenCount * tokenCount);
        var keysWritten = !overwrite; // accumulating: the keys' gradients already hold what to add to
        for (var blockStart = 0; blockStart < tokenCount; blockStart += QueryBlockRows)
        {
            var blockRows = Math.Min(QueryBlockRows, tokenCount - blockStart);
            var blockProbabilities = headProbabilities.Slice(blockStart * tokenCount, blockRows * tokenCount);
            // Keys past the block's last nonzero probability (the future, under a causal mask) contribute nothing.
            var extent = VisibleExtent(blockProbabilities, blockRows, tokenCount);
            if (extent == 0)
            {
                if (overwrite) ClearRows(queryGradients, rowStride, headSize, blockStart, blockStart + blockRows);
                continue;
            }

            var blockGradient = headGradient[(blockStart * channels)..];
            Gemm.Multiply(blockGradient, channels, false, values, rowStride, true, scoreGradients, tokenCount,
                blockRows, extent, headSize, 1f, 0f, Parallelism.Sequential);
            for (var blockRow = 0; blockRow < blockRows; blockRow++)
            {
                var visible = blockProbabilities.Slice(blockRow * tokenCount, extent);
                var scoreGradient = scoreGradients.Slice(blockRow * tokenCount, extent);
                ScoreGradientRow(visible, scoreGradient, TensorPrimitives.Dot(visible, scoreGradient), shape.Scale);
            }

            Gemm.Multiply(scoreGradients, tokenCount, false, keys, rowStride, false, queryGradients[(blockStart * rowStride)..], rowStride,
                blockRows, headSize, extent, 1f, overwrite ? 0f : 1f, Parallelism.Sequential);
            var keyBeta = keysWritten ? 1f : 0f;
            Gemm.Multiply(scoreGradients, tokenCount, true, queries[(blockStart * rowStride)..], rowStride, false, keyGradients, rowStride,
                extent, headSize, blockRows, 1f, keyBeta, Parallelism.Sequential);
            Gemm.Multiply(blockProbabilities, tokenCount, true, blockGradient, channels, false, valueGradients, rowStride,
                extent, headSize, blockRows, 1f, keyBeta, Parallelism.Sequential);
            if (!keysWritten)
            {
                ClearRows(keyGradients, rowStride, headSize, extent, tokenCount);
                ClearRows(valueGradients, rowStride, headSize, extent, tokenCount);
                keysWritten = true;
            }
        }

        if (!keysWritten)
        {
            // No block saw a key (cannot happen after a valid forward, where every query sees one): write zeros.
            ClearRows(keyGradients, rowStride, headSize, 0, tokenCount);
            ClearRows(valueGradients, rowStride, headSize, 0, tokenCount);
        }
    }

    /// <summary>
    /// dS = (dP − Σ P·dP) ⊙ P · scale over one row, in place of dP: one pass where TensorPrimitives' Subtract and two
    /// Multiplies take three, with their order of operations (so the same bits).
    /// </summary>
    private static void ScoreGradientRow(ReadOnlySpan<float> probabilities, Span<float> scoreGradient, float expected, float scale)
    {
        ref var p = ref MemoryMarshal.GetReference(probabilities);
        ref var gradient = ref MemoryMarshal.GetReference(scoreGradient);
        nuint length = (nuint)scoreGradient.Length, index = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var (mean, factor) = (Vector512.Create(expected), Vector512.Create(scale));
            for (; index + (nuint)Vector512<float>.Count <= length; index += (nuint)Vector512<float>.Count)
                ((Vector512.LoadUnsafe(ref gradient, index) - mean) * Vector512.LoadUnsafe(ref p, index) * factor).StoreUnsafe(ref gradient, index);
        }

        if (Vector.IsHardwareAccelerated)
        {
            var (mean, factor) = (new Vector<float>(expected), new Vector<float>(scale));
            for (; index + (nuint)Vector<float>.Count <= length; index += (nuint)Vector<float>.Count)
                ((Vector.LoadUnsafe(ref gradient, index) - mean) * Vector.LoadUnsafe(ref p, index) * factor).StoreUnsafe(ref gradient, index);
        }

        for (; index < length; index++)
            Unsafe.Add(ref gradient, index) = (Unsafe.Add(ref gradient, index) - expected) * Unsafe.Add(ref p, index) * scale;
    }

    /// <summary>
    /// One past the last key with a nonzero probability in any of the block's rows [rows, T]. The rows are scanned
    /// last first: under a causal mask the last row sees the most keys, and every other row's scan then stops at once.
    /// </summary>
    private static int VisibleExtent(ReadOnlySpan<float> blockProbabilities, int rows, int tokenCount)
    {
        var extent = 0;
        for (var row = rows - 1; row >= 0; row--)
        {
            var probabilityRow = blockProbabilities.Slice(row * tokenCount, tokenCount);
            var rowExtent = tokenCount;
            while (rowExtent > extent && probabilityRow[rowExtent - 1] == 0f) rowExtent--;
            extent = Math.Max(extent, rowExtent);
        }

        return extent;
    }
}
