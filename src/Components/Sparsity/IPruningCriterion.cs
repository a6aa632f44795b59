using System.Numerics;

namespace Pipelines.Components.Sparsity;

/// <summary>Chooses which weights to prune so that a mask reaches a target sparsity.</summary>
/// <remarks>
/// Criteria only add pruned entries: what is already pruned stays pruned (gradual magnitude pruning, Zhu &amp;
/// Gupta, arXiv 1710.01878). A criterion is stateless and deterministic: the same values and mask give the
/// same new mask.
/// </remarks>
public interface IPruningCriterion
{
    /// <summary>Prunes entries of <paramref name="mask"/> until its prunable slices reach <paramref name="targetSparsity"/>.</summary>
    /// <param name="values">The parameter values, laid out like the arena (<see cref="PruningMask.BufferLength"/> long).</param>
    /// <param name="mask">The current mask; updated in place. Its <see cref="PruningMask.PrunableSlices"/> are the candidates.</param>
    /// <param name="targetSparsity">The pruned fraction to reach, in [0, 1].</param>
    /// <returns>How many entries were newly pruned.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="targetSparsity"/> is outside [0, 1].</exception>
    /// <exception cref="ArgumentException"><paramref name="values"/> is not laid out like the mask.</exception>
    long Prune(ReadOnlySpan<float> values, PruningMask mask, double targetSparsity);
}

/// <summary>Which weights compete for pruning.</summary>
public enum PruningCriterionKind
{
    /// <summary>Each prunable parameter reaches the target on its own (Zhu &amp; Gupta): <see cref="LayerwiseMagnitudeCriterion"/>.</summary>
    Layerwise,
    /// <summary>One magnitude ranking across all prunable parameters: <see cref="GlobalMagnitudeCriterion"/>.</summary>
    Global,
}

/// <summary>Shared pieces of the magnitude criteria.</summary>
internal static class MagnitudeSelection
{
    /// <summary>The number of entries to prune for a slice of <paramref name="length"/> at <paramref name="sparsity"/>.</summary>
    /// <remarks>Rounded to the nearest count, as the reference implementation of Zhu &amp; Gupta rounds the kept count.</remarks>
    public static long TargetPrunedCount(long length, double sparsity) =>
        Math.Min(length, (long)Math.Round(sparsity * length, MidpointRounding.AwayFromZero));

    /// <summary>
    /// A sort key ordering entries by |value|, then by index: the float bits of |value| (monotonic for
    /// non-negative floats) above the index. Unique per index, so the selected set never depends on the
    /// selection algorithm. NaN ranks above +infinity and is pruned last.
    /// </summary>
    public static ulong Key(float value, int index) => (ulong)BitConverter.SingleToUInt32Bits(MathF.Abs(value)) << 32 | (uint)index;

    /// <summary>The index stored in a <see cref="Key"/>.</summary>
    public static int IndexOf(ulong key) => (int)(uint)key;

    /// <summary>
    /// Reorders <paramref name="keys"/> so that its first <paramref name="count"/> entries are its
    /// <paramref name="count"/> smallest (in no particular order): quickselect with a median-of-three pivot,
    /// O(n) on average, falling back to sorting the remaining range after too many rounds (O(n log n) worst case).
    /// </summary>
    public static void SelectSmallest(Span<ulong> keys, int count)
    {
        if (count <= 0 || count >= keys.Length) return;
        var target = count - 1;
        var left = 0;
        var right = keys.Length - 1;
        var roundsLeft = 2 * (BitOperations.Log2((uint)keys.Length) + 1);
        while (right > left)
        {
            if (roundsLeft-- == 0)
            {
                keys[left..(right + 1)].Sort();
                return;
            }

            var middle = left + (right - left) / 2;
            if (keys[middle] < keys[left]) (keys[middle], keys[left]) = (keys[left], keys[middle]);
            if (keys[right] < keys[left]) (keys[right], keys[left]) = (keys[left], keys[right]);
            if (keys[right] < keys[middle]) (keys[right], keys[middle]) = (keys[middle], keys[right]);
            var pivot = keys[middle];
            var low = left;
            var high = right;
            while (low <= high)
            {
                while (keys[low] < pivot) low++;
                while (keys[high] > pivot) high--;
                if (low <= high)
                {
                    (keys[low], keys[high]) = (keys[high], keys[low]);
                    low++;
                    high--;
                }
            }

            // Now keys[left..high] <= pivot <= keys[low..right], and anything between equals the pivot.
            if (target <= high) right = high;
            else if (target >= low) left = low;
            else return;
        }
    }

    public static void Validate(ReadOnlySpan<float> values, PruningMask mask, double targetSparsity)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (!(targetSparsity >= 0 && targetSparsity <= 1))
            throw new ArgumentOutOfRangeException(nameof(targetSparsity), targetSparsity, "The target sparsity must lie in [0, 1].");
        mask.RequireBufferLength(values.Length, nameof(values));
    }
}
