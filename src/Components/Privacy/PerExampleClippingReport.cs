namespace Pipelines.Components.Privacy;

/// <summary>What one batched per-example clipping pass saw; the norms are per example and so are not private: never log them.</summary>
/// <param name="BatchSize">Examples in the pass.</param>
/// <param name="ClippedCount">Examples with at least one group scaled down (<c>c_ig &lt; 1</c>).</param>
/// <param name="GroupNorms">Each example's pre-clip gradient norm per clipping group, [B, G] row-major.</param>
public sealed record PerExampleClippingReport(int BatchSize, int ClippedCount, double[] GroupNorms)
{
    /// <summary>No example of the pass had a NaN or infinite norm.</summary>
    public bool NormsAreFinite => Array.TrueForAll(GroupNorms, double.IsFinite);
}
