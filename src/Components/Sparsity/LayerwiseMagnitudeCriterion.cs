using System.Buffers;

namespace Pipelines.Components.Sparsity;

/// <summary>
/// Magnitude pruning per parameter: in each prunable slice, prune the smallest |w| among the kept weights until
/// that slice's sparsity reaches the target. The default criterion.
/// </summary>
/// <remarks>
/// As Zhu &amp; Gupta (arXiv 1710.01878) and sparse pre-training (arXiv 2501.12486): every layer ends at the same
/// sparsity. A slice of n weights ends with round(s n) pruned entries (never fewer than it already had).
/// Ties in |w| go to the lower index first. Uses a selection (quickselect), not a full sort.
/// </remarks>
public sealed class LayerwiseMagnitudeCriterion : IPruningCriterion
{
    /// <inheritdoc />
    public long Prune(ReadOnlySpan<float> values, PruningMask mask, double targetSparsity)
    {
        MagnitudeSelection.Validate(values, mask, targetSparsity);
        long newlyPruned = 0;
        foreach (var slice in mask.PrunableSlices)
        {
            var pruned = mask.PrunedCountOf(slice);
            var extra = (int)(MagnitudeSelection.TargetPrunedCount(slice.Length, targetSparsity) - pruned);
            if (extra <= 0) continue;

            var kept = mask.MaskOf(slice);
            var sliceValues = values.Slice(slice.Offset, slice.Length);
            var candidateCount = (int)(slice.Length - pruned);
            var rented = ArrayPool<ulong>.Shared.Rent(candidateCount);
            try
            {
                var keys = rented.AsSpan(0, candidateCount);
                var next = 0;
                for (var index = 0; index < kept.Length; index++)
                {
                    if (kept[index] != 0f) keys[next++] = MagnitudeSelection.Key(sliceValues[index], index);
                }

                MagnitudeSelection.SelectSmallest(keys, extra);
                var indices = new int[extra];
                for (var rank = 0; rank < extra; rank++) indices[rank] = MagnitudeSelection.IndexOf(keys[rank]);
                newlyPruned += mask.Prune(slice, indices);
            }
            finally
            {
                ArrayPool<ulong>.Shared.Return(rented);
            }
        }

        return newlyPruned;
    }
}
