namespace Pipelines.Components.Diagnostics;

/// <summary>The mean Shannon entropy of a block's attention rows: low values mean saturated (peaked) attention.</summary>
/// <remarks>
/// <c>H = mean over examples b, heads h and valid queries i of -Σ_j A[b,h,i,j] log A[b,h,i,j]</c>, natural log,
/// with <c>0 log 0 = 0</c>. A query is valid when its own token is not padding; key j counts for query i when it is
/// not padding and, in a causal model, <c>j ≤ i</c>. Normalised, each row's entropy is divided by
/// <c>log n_i</c> (n_i its valid keys) so uniform attention scores 1 at every position; rows with one valid key
/// (the GPT's first position) carry no information there (0/0) and are left out of the normalised mean only.
/// Inflection-layer diagnosis, arXiv 2511.00797.
/// </remarks>
public static class AttentionEntropy
{
    /// <summary>The mean row entropy of <paramref name="probabilities"/> [B, H, T, T].</summary>
    /// <param name="probabilities">Attention probabilities [B, H, T, T], rows summing to 1 over valid keys.</param>
    /// <param name="keyMask">[B, T], 1 = token, 0 = padding; empty = no padding.</param>
    /// <param name="causal">Whether query i sees only keys j ≤ i.</param>
    /// <param name="batchSize">B.</param>
    /// <param name="headCount">H.</param>
    /// <param name="tokenCount">T.</param>
    /// <param name="normalize">Divide each row's entropy by the log of its number of valid keys.</param>
    /// <returns>The mean, or 0 when no row qualifies.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
    public static double Mean(ReadOnlySpan<float> probabilities, ReadOnlySpan<byte> keyMask, bool causal, int batchSize, int headCount, int tokenCount, bool normalize)
    {
        var (sum, count) = Sum(probabilities, keyMask, causal, batchSize, headCount, tokenCount, normalize);
        return count == 0 ? 0 : sum / count;
    }

    /// <summary>The sum of the qualifying rows' entropies and their number (to pool several batches).</summary>
    /// <inheritdoc cref="Mean" path="/param"/>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
    public static (double Sum, long Count) Sum(ReadOnlySpan<float> probabilities, ReadOnlySpan<byte> keyMask, bool causal, int batchSize, int headCount, int tokenCount, bool normalize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(headCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokenCount, 1);
        if (probabilities.Length != (long)batchSize * headCount * tokenCount * tokenCount)
            throw new ArgumentException($"Expected {(long)batchSize * headCount * tokenCount * tokenCount} probabilities for [B, H, T, T], got {probabilities.Length}.", nameof(probabilities));
        if (!keyMask.IsEmpty && keyMask.Length != batchSize * tokenCount)
            throw new ArgumentException($"Expected {batchSize * tokenCount} mask entries for [B, T], got {keyMask.Length}.", nameof(keyMask));

        var weights = new double[batchSize * tokenCount];
        var qualifyingQueries = RowWeights(keyMask, causal, batchSize, tokenCount, normalize, weights);
        double sum = 0;
        for (var example = 0; example < batchSize; example++)
        {
            for (var query = 0; query < tokenCount; query++)
            {
                var weight = weights[example * tokenCount + query];
                if (weight == 0) continue;
                for (var head = 0; head < headCount; head++)
                {
                    var row = probabilities.Slice((((example * headCount) + head) * tokenCount + query) * tokenCount, tokenCount);
                    sum += weight * RowEntropy(row);
                }
            }
        }

        return (sum, (long)qualifyingQueries * headCount);
    }

    /// <summary>
    /// The one statement of which rows count and how each is scaled: writes <c>w[b, i]</c> [B, T] so that the pooled sum
    /// is <c>Σ_{b,h,i} w[b,i] · RowEntropy(A[b,h,i,:])</c> over <c>H · (number of w &gt; 0)</c> rows; returns that number of queries.
    /// </summary>
    /// <remarks>
    /// <c>w = 0</c> for a padding query; otherwise 1, or normalised <c>1 / log n_i</c> (n_i the valid keys: not padding and,
    /// causal, <c>j ≤ i</c>), and 0 when <c>n_i &lt; 2</c>. Shared by the managed pooling here and the TorchSharp backend's
    /// on-device reduction, so both pool the same rows with the same weights.
    /// </remarks>
    internal static int RowWeights(ReadOnlySpan<byte> keyMask, bool causal, int batchSize, int tokenCount, bool normalize, Span<double> weights)
    {
        var count = 0;
        for (var example = 0; example < batchSize; example++)
        {
            var mask = keyMask.IsEmpty ? ReadOnlySpan<byte>.Empty : keyMask.Slice(example * tokenCount, tokenCount);
            for (var query = 0; query < tokenCount; query++)
            {
                var validKeys = CountValidKeys(mask, causal ? query + 1 : tokenCount);
                var weight = !mask.IsEmpty && mask[query] == 0 ? 0
                    : !normalize ? 1
                    : validKeys < 2 ? 0
                    : 1 / Math.Log(validKeys);
                weights[example * tokenCount + query] = weight;
                count += weight > 0 ? 1 : 0;
            }
        }

        return count;
    }

    /// <summary><c>-Σ p log p</c> over the entries of <paramref name="row"/>, with <c>0 log 0 = 0</c>.</summary>
    public static double RowEntropy(ReadOnlySpan<float> row)
    {
        double entropy = 0;
        foreach (var probability in row)
        {
            if (probability > 0) entropy -= probability * Math.Log(probability);
        }

        return entropy;
    }

    private static int CountValidKeys(ReadOnlySpan<byte> mask, int visible)
    {
        if (mask.IsEmpty) return visible;
        var count = 0;
        for (var key = 0; key < visible; key++) count += mask[key] != 0 ? 1 : 0;
        return count;
    }
}
