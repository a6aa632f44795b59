using Pipelines.Components.Diagnostics;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Diagnostics;

/// <summary>
/// <see cref="AttentionEntropy"/> on the device: the same per-row entropy and the same row weights, reduced to one
/// scalar per block and batch so only that scalar crosses to the host.
/// </summary>
/// <remarks>
/// <c>H_sum = Σ_{b,h,i} w[b,i] · (−Σ_j A[b,h,i,j] log A[b,h,i,j])</c>, <c>0 log 0 = 0</c>, the weights w [B, T] from
/// <see cref="AttentionEntropy.RowWeights"/> (the one statement of which rows count and how each is normalised), so the
/// pooled mean is the managed <see cref="AttentionEntropy.Sum"/>'s. Arithmetic in float64, as the managed reduction.
/// </remarks>
internal static class TorchAttentionEntropy
{
    /// <summary><see cref="AttentionEntropy.RowEntropy"/> of every row of <paramref name="probabilities"/> [B, H, T, T]: float64 [B, H, T].</summary>
    public static Tensor RowEntropies(Tensor probabilities)
    {
        var values = probabilities.to_type(ScalarType.Float64);
        return values.xlogy(values).sum(3).neg();
    }

    /// <summary>The weighted sum of the row entropies of <paramref name="probabilities"/> [B, H, T, T], a float64 scalar.</summary>
    /// <param name="probabilities">Attention probabilities [B, H, T, T].</param>
    /// <param name="weights">float64 [B, 1, T] on the same device, from <see cref="AttentionEntropy.RowWeights"/>.</param>
    public static Tensor WeightedSum(Tensor probabilities, Tensor weights) => (RowEntropies(probabilities) * weights).sum();

    /// <summary>The row weights of <paramref name="batch"/> as float64 [B, 1, T] on <paramref name="device"/>, and the number of rows they count (heads included).</summary>
    public static (Tensor Weights, long Rows) Weights(DiagnosticBatch batch, bool causal, int headCount, bool normalize, Device device)
    {
        var weights = new double[batch.BatchSize * batch.TokenCount];
        var queries = AttentionEntropy.RowWeights(batch.KeyMask ?? ReadOnlySpan<byte>.Empty, causal, batch.BatchSize, batch.TokenCount, normalize, weights);
        return (tensor(weights, [batch.BatchSize, 1, batch.TokenCount], dtype: ScalarType.Float64, device: device), (long)queries * headCount);
    }
}
