using System.Buffers;
using System.Numerics.Tensors;

namespace Pipelines.Components.Kernels;

public static partial class Attention
{
    // Each (batch, head) pair is one unit of work. Its q, k, v rows lie 3C floats apart in qkv, a stride that
    // maps many rows onto the same few L1 sets, so a pair first gathers what its inner loops sweep into
    // contiguous per-thread scratch: Kᵀ and V for forward; Vᵀ, K, Q and dy for backward.

    /// <summary>Forward for the (batch, head) pairs [start, end); pair = batch·H + head.</summary>
    private static void ForwardPairs(ReadOnlySpan<float> qkv, ReadOnlySpan<byte> keyMask, Span<float> output, Span<float> probabilities,
        int start, int end, AttentionShape shape, bool causal)
    {
        var (tokenCount, channels, headSize, rowStride) = (shape.TokenCount, shape.Channels, shape.HeadSize, shape.RowStride);
        var headLength = headSize * tokenCount;
        var scratchLength = 2 * headLength;
        float[]? rented = null;
        var scratch = scratchLength <= StackScratchLimit
            ? stackalloc float[scratchLength]
            : (rented = ArrayPool<float>.Shared.Rent(scratchLength)).AsSpan(0, scratchLength);
        try
        {
            var keysTransposed = scratch[..headLength];
            var values = scratch[headLength..];
            for (var pair = start; pair < end; pair++)
            {
                var (batch, head) = Math.DivRem(pair, shape.HeadCount);
                var sequence = qkv.Slice(batch * tokenCount * rowStride, tokenCount * rowStride);
                var mask = keyMask.IsEmpty ? default : keyMask.Slice(batch * tokenCount, tokenCount);
                Transpose(sequence, channels + head * headSize, rowStride, tokenCount, headSize, keysTransposed);
                Gather(sequence, 2 * channels + head * headSize, rowStride, tokenCount, headSize, values);
                for (var query = 0; query < tokenCount; query++)
                {
                    var visibleCount = causal ? query + 1 : tokenCount;
                    var row = probabilities.Slice((pair * tokenCount + query) * tokenCount, tokenCount);
                    var visible = row[..visibleCount];
                    row[visibleCount..].Clear();
                    MultiplyByColumns(sequence.Slice(query * rowStride + head * headSize, headSize), keysTransposed, tokenCount, shape.Scale, visible);
                    if (!mask.IsEmpty)
                    {
                        for (var key = 0; key < visibleCount; key++)
                        {
                            if (mask[key] == 0) visible[key] = float.NegativeInfinity;
                        }
                    }

                    // Validation guarantees a visible key, so the maximum is finite; masked scores become exactly 0.
                    TensorPrimitives.Subtract(visible, TensorPrimitives.Max(visible), visible);
                    TensorPrimitives.Exp(visible, visible);
                    TensorPrimitives.Divide(visible, TensorPrimitives.Sum(visible), visible);

                    var outputRow = output.Slice((batch * tokenCount + query) * channels + head * headSize, headSize);
                    outputRow.Clear();
                    AddWeightedRows(visible, 1, visibleCount, values, headSize, outputRow);
                }
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>Backward for the (batch, head) pairs [start, end).</summary>
    private static void BackwardPairs(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> qkv, ReadOnlySpan<float> probabilities,
        Span<float> qkvGradient, int start, int end, AttentionShape shape)
    {
        var headLength = shape.HeadSize * shape.TokenCount;
        var scratchLength = 4 * headLength + BackwardBlockRows * shape.TokenCount;
        float[]? rented = null;
        var scratch = scratchLength <= StackScratchLimit
            ? stackalloc float[scratchLength]
            : (rented = ArrayPool<float>.Shared.Rent(scratchLength)).AsSpan(0, scratchLength);
        try
        {
            var head = new HeadScratch(scratch[..headLength], scratch.Slice(headLength, headLength),
                scratch.Slice(2 * headLength, headLength), scratch.Slice(3 * headLength, headLength), scratch[(4 * headLength)..]);
            for (var pair = start; pair < end; pair++)
                BackwardPair(outputGradient, qkv, probabilities, qkvGradient, pair, shape, head);
        }
        finally
        {
            if (rented is not null) ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>Backward's per-thread scratch: one head's Vᵀ [hs, T], K, Q and dy [T, hs], and a block of dS rows [block, T].</summary>
    private readonly ref struct HeadScratch(Span<float> valuesTransposed, Span<float> keys, Span<float> queries, Span<float> outputGradients,
        Span<float> scoreGradients)
    {
        public readonly Span<float> ValuesTransposed = valuesTransposed;
        public readonly Span<float> Keys = keys;
        public readonly Span<float> Queries = queries;
        public readonly Span<float> OutputGradients = outputGradients;
        public readonly Span<float> ScoreGradients = scoreGradients;
    }

    /// <summary>
    /// One (batch, head) pair, a block of queries at a time: per query dP, dS and dq; then per key dv and dk
    /// summed over the block in registers, so each key row is written once per block rather than once per query.
    /// </summary>
    private static void BackwardPair(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> qkv, ReadOnlySpan<float> probabilities,
        Span<float> qkvGradient, int pair, AttentionShape shape, HeadScratch scratch)
    {
        var (tokenCount, channels, headSize, rowStride) = (shape.TokenCount, shape.Channels, shape.HeadSize, shape.RowStride);
        var (batch, head) = Math.DivRem(pair, shape.HeadCount);
        var sequence = qkv.Slice(batch * tokenCount * rowStride, tokenCount * rowStride);
        var sequenceGradient = qkvGradient.Slice(batch * tokenCount * rowStride, tokenCount * rowStride);
        var headProbabilities = probabilities.Slice(pair * tokenCount * tokenCount, tokenCount * tokenCount);
        var (queryBase, keyBase, valueBase) = (head * headSize, channels + head * headSize, 2 * channels + head * headSize);
        Transpose(sequence, valueBase, rowStride, tokenCount, headSize, scratch.ValuesTransposed);
        Gather(sequence, keyBase, rowStride, tokenCount, headSize, scratch.Keys);
        Gather(sequence, queryBase, rowStride, tokenCount, headSize, scratch.Queries);
        Gather(outputGradient.Slice(batch * tokenCount * channels, tokenCount * channels), head * headSize, channels, tokenCount, headSize, scratch.OutputGradients);
        var scoreGradients = scratch.ScoreGradients;
        for (var blockStart = 0; blockStart < tokenCount; blockStart += BackwardBlockRows)
        {
            var blockRows = Math.Min(BackwardBlockRows, tokenCount - blockStart);
            var blockExtent = 0;
            for (var blockRow = 0; blockRow < blockRows; blockRow++)
            {
                var query = blockStart + blockRow;
                var row = headProbabilities.Slice(query * tokenCount, tokenCount);
                // Keys past the last nonzero probability (the future, under a causal mask) contribute nothing.
                var extent = tokenCount;
                while (extent > 0 && row[extent - 1] == 0f) extent--;
                blockExtent = Math.Max(blockExtent, extent);
                var visible = row[..extent];
                var scoreGradient = scoreGradients.Slice(blockRow * tokenCount, tokenCount);
                scoreGradient[extent..].Clear();
                scoreGradient = scoreGradient[..extent];

                // dP[j] = dy_i · v_j, then dS[j] = P[j] (dP[j] - Σ_k P[k] dP[k]) / √hs in place; zero wherever P is.
                MultiplyByColumns(scratch.OutputGradients.Slice(query * headSize, headSize), scratch.ValuesTransposed, tokenCount, 1f, scoreGradient);
                var expected = TensorPrimitives.Dot(visible, scoreGradient);
                TensorPrimitives.Subtract(scoreGradient, expected, scoreGradient);
                TensorPrimitives.Multiply(scoreGradient, visible, scoreGradient);
                TensorPrimitives.Multiply(scoreGradient, shape.Scale, scoreGradient);

                // dq_i += Σ_j dS[j] k_j.
                AddWeightedRows(scoreGradient, 1, extent, scratch.Keys, headSize, sequenceGradient.Slice(query * rowStride + queryBase, headSize));
            }

            // dv_j += Σ_i P[i,j] dy_i and dk_j += Σ_i dS[i,j] q_i over the block's queries i.
            var blockProbabilities = headProbabilities[(blockStart * tokenCount)..];
            var blockGradients = scratch.OutputGradients[(blockStart * headSize)..];
            var blockQueries = scratch.Queries[(blockStart * headSize)..];
            for (var key = 0; key < blockExtent; key++)
            {
                var keyRow = key * rowStride;
                AddWeightedRows(blockProbabilities[key..], tokenCount, blockRows, blockGradients, headSize, sequenceGradient.Slice(keyRow + valueBase, headSize));
                AddWeightedRows(scoreGradients[key..], tokenCount, blockRows, blockQueries, headSize, sequenceGradient.Slice(keyRow + keyBase, headSize));
            }
        }
    }
}
