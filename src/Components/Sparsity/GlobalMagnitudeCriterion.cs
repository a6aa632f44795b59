using System.Buffers;

namespace Pipelines.Components.Sparsity;

/// <summary>
/// Magnitude pruning with one ranking across all prunable parameters: prune the smallest |w| among every kept
/// prunable weight until the prunable parameters together reach the target sparsity.
/// </summary>
/// <remarks>
/// The global option of sparse pre-training (arXiv 2501.12486). Layers end at different sparsities: those
/// with small weights lose more. Of N prunable weights, round(s N) end pruned (never fewer than already were).
/// Ties in |w| go to the lower arena position first. Uses a selection (quickselect), not a full sort.
/// </remarks>
public sealed class GlobalMagnitudeCriterion : IPruningCriterion
{
    /// <inheritdoc />
    public long Prune(ReadOnlySpan<float> values, PruningMask mask, double targetSparsity)
    {
        MagnitudeSelection.Validate(values, mask, targetSparsity);
        var extra = MagnitudeSelection.TargetPrunedCount(mask.PrunableCount, targetSparsity) - mask.PrunedCount;
        if (extra <= 0) return 0;

        var candidateCount = checked((int)(mask.PrunableCount - mask.PrunedCount));
        var rented = ArrayPool<ulong>.Shared.Rent(candidateCount);
        try
        {
            var keys = rented.AsSpan(0, candidateCount);
            var next = 0;
            var buffer = mask.Buffer;
            foreach (var slice in mask.PrunableSlices)
            {
                for (var position = slice.Offset; position < slice.Offset + slice.Length; position++)
                {
                    if (buffer[position] != 0f) keys[next++] = MagnitudeSelection.Key(values[position], position);
                }
            }

            MagnitudeSelection.SelectSmallest(keys, (int)extra);
            var positions = new int[extra];
            for (var rank = 0; rank < positions.Length; rank++) positions[rank] = MagnitudeSelection.IndexOf(keys[rank]);
            Array.Sort(positions);

            long newlyPruned = 0;
            var start = 0;
            foreach (var slice in mask.PrunableSlices)
            {
                var end = start;
                while (end < positions.Length && positions[end] < slice.Offset + slice.Length) end++;
                if (end == start) continue;
                var indices = positions[start..end];
                for (var index = 0; index < indices.Length; index++) indices[index] -= slice.Offset;
                newlyPruned += mask.Prune(slice, indices);
                start = end;
            }

            return newlyPruned;
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(rented);
        }
    }
}
