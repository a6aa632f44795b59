namespace Pipelines.Components.Privacy;

/// <summary>Per-example gradient norms of the embedding and layer-norm parameters (and a tied head's cross term), which with <see cref="GhostNorms"/> cover a GPT.</summary>
/// <remarks>
/// <para>
/// Shapes (B = examples, T = tokens per example, C = channels): b is dLoss/dOutput [B, T, C].
/// Token embedding: example i's gradient adds b_it to row id_it, so <c>||g_i||^2 = sum_{t,t': id_it = id_it'} b_it . b_it'</c>;
/// it is computed by summing b over each distinct id of the example (O(T C + T log T)), never the V x C table.
/// Position embedding: one row per position, so <c>||g_i||^2 = sum_t ||b_it||^2</c>.
/// Layer norm with x^ = (x - mean) * rstd: scale gradient <c>sum_t b_it * x^_it</c>, shift gradient <c>sum_t b_it</c>,
/// both C long, so they are built directly.
/// </para>
/// <para>Per-example clipping as in DP-SGD (Abadi et al. 2016, arXiv 1607.00133); sums in double.</para>
/// </remarks>
public static class PerExampleNorms
{
    /// <summary>Squared norms of each example's token-table and position-table gradients.</summary>
    /// <param name="tokens">Token ids [B, T].</param>
    /// <param name="outputGradient">dLoss/dOutput of the embedding [B, T, C].</param>
    /// <param name="tokenTableSquaredNorms">Receives [B] (overwritten), or empty to skip.</param>
    /// <param name="positionTableSquaredNorms">Receives [B] (overwritten), or empty to skip.</param>
    /// <param name="batchSize">B.</param>
    /// <param name="tokenCount">T.</param>
    /// <param name="channels">C.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative.</exception>
    /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
    public static void Embedding(
        ReadOnlySpan<int> tokens, ReadOnlySpan<float> outputGradient, Span<double> tokenTableSquaredNorms, Span<double> positionTableSquaredNorms,
        int batchSize, int tokenCount, int channels)
    {
        CheckSizes(batchSize, tokenCount, channels);
        CheckLength(tokens.Length, (long)batchSize * tokenCount, nameof(tokens), "[B, T]");
        CheckLength(outputGradient.Length, (long)batchSize * tokenCount * channels, nameof(outputGradient), "[B, T, C]");
        CheckOptional(tokenTableSquaredNorms, batchSize, nameof(tokenTableSquaredNorms));
        CheckOptional(positionTableSquaredNorms, batchSize, nameof(positionTableSquaredNorms));

        var order = new int[tokenCount];
        var keys = new int[tokenCount];
        var row = new double[channels];
        for (var example = 0; example < batchSize; example++)
        {
            var gradient = outputGradient.Slice(example * tokenCount * channels, tokenCount * channels);
            if (!positionTableSquaredNorms.IsEmpty)
            {
                double positions = 0;
                foreach (var value in gradient) positions += (double)value * value;
                positionTableSquaredNorms[example] = positions;
            }

            if (tokenTableSquaredNorms.IsEmpty) continue;
            // Visit the example's tokens grouped by id; each group's rows sum to one row of the table's gradient.
            tokens.Slice(example * tokenCount, tokenCount).CopyTo(keys);
            for (var t = 0; t < tokenCount; t++) order[t] = t;
            Array.Sort(keys, order);
            double total = 0;
            for (var start = 0; start < tokenCount;)
            {
                Array.Clear(row);
                var end = start;
                for (; end < tokenCount && keys[end] == keys[start]; end++)
                {
                    var source = gradient.Slice(order[end] * channels, channels);
                    for (var c = 0; c < channels; c++) row[c] += source[c];
                }

                foreach (var value in row) total += value * value;
                start = end;
            }

            tokenTableSquaredNorms[example] = total;
        }
    }

    /// <summary>Squared norms of each example's layer-norm scale and shift gradients.</summary>
    /// <param name="outputGradient">dLoss/dOutput of the layer norm [B, T, C].</param>
    /// <param name="input">The forward input [B, T, C].</param>
    /// <param name="mean">Per-row mean saved by the forward pass [B, T].</param>
    /// <param name="reciprocalStandardDeviation">Per-row 1/sqrt(var + eps) saved by the forward pass [B, T].</param>
    /// <param name="scaleSquaredNorms">Receives [B] (overwritten), or empty to skip.</param>
    /// <param name="shiftSquaredNorms">Receives [B] (overwritten), or empty to skip.</param>
    /// <param name="batchSize">B.</param>
    /// <param name="tokenCount">T.</param>
    /// <param name="channels">C.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative.</exception>
    /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
    public static void LayerNorm(
        ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> mean, ReadOnlySpan<float> reciprocalStandardDeviation,
        Span<double> scaleSquaredNorms, Span<double> shiftSquaredNorms, int batchSize, int tokenCount, int channels)
    {
        CheckSizes(batchSize, tokenCount, channels);
        var elements = (long)batchSize * tokenCount * channels;
        CheckLength(outputGradient.Length, elements, nameof(outputGradient), "[B, T, C]");
        CheckLength(input.Length, elements, nameof(input), "[B, T, C]");
        CheckLength(mean.Length, (long)batchSize * tokenCount, nameof(mean), "[B, T]");
        CheckLength(reciprocalStandardDeviation.Length, (long)batchSize * tokenCount, nameof(reciprocalStandardDeviation), "[B, T]");
        CheckOptional(scaleSquaredNorms, batchSize, nameof(scaleSquaredNorms));
        CheckOptional(shiftSquaredNorms, batchSize, nameof(shiftSquaredNorms));

        var scaleGradient = new double[channels]; // [C]
        var shiftGradient = new double[channels]; // [C]
        for (var example = 0; example < batchSize; example++)
        {
            Array.Clear(scaleGradient);
            Array.Clear(shiftGradient);
            for (var t = 0; t < tokenCount; t++)
            {
                var row = example * tokenCount + t;
                var rowMean = mean[row];
                var rowScale = reciprocalStandardDeviation[row];
                for (var c = 0; c < channels; c++)
                {
                    double gradient = outputGradient[row * channels + c];
                    shiftGradient[c] += gradient;
                    scaleGradient[c] += gradient * ((input[row * channels + c] - rowMean) * rowScale);
                }
            }

            if (!scaleSquaredNorms.IsEmpty) scaleSquaredNorms[example] = scaleGradient.Sum(value => value * value);
            if (!shiftSquaredNorms.IsEmpty) shiftSquaredNorms[example] = shiftGradient.Sum(value => value * value);
        }
    }

    /// <summary>
    /// Per-example inner products <c>&lt;e_i, h_i&gt;</c> of the two gradients a tied token table receives: from the embedding
    /// (e_i) and from an output head <c>logits = x W^T</c> sharing the table (h_i).
    /// </summary>
    /// <remarks>
    /// <c>e_i</c> adds b_t to row id_t and <c>h_i = sum_t' g_t' x_t'^T</c>, so <c>&lt;e_i, h_i&gt; = sum_{t,t'} g_t'[id_t] (x_t' . b_t)</c>, O(T^2 C);
    /// then <c>||e_i + h_i||^2 = ||e_i||^2 + ||h_i||^2 + 2 &lt;e_i, h_i&gt;</c> without the V x C table. Sums in double.
    /// </remarks>
    /// <param name="tokens">Token ids [B, T].</param>
    /// <param name="embeddingOutputGradient">dLoss/d(embedding output) b [B, T, C].</param>
    /// <param name="headInput">The head's input x [B, T, C].</param>
    /// <param name="headOutputGradient">dLoss/dlogits g [B, T, V].</param>
    /// <param name="crossTerms">Receives <c>&lt;e_i, h_i&gt;</c> [B] (overwritten).</param>
    /// <param name="batchSize">B.</param>
    /// <param name="tokenCount">T.</param>
    /// <param name="channels">C.</param>
    /// <param name="vocabularySize">V.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or a token id is outside [0, V).</exception>
    /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
    public static void TiedEmbeddingCrossTerms(
        ReadOnlySpan<int> tokens, ReadOnlySpan<float> embeddingOutputGradient, ReadOnlySpan<float> headInput, ReadOnlySpan<float> headOutputGradient,
        Span<double> crossTerms, int batchSize, int tokenCount, int channels, int vocabularySize)
    {
        CheckSizes(batchSize, tokenCount, channels);
        ArgumentOutOfRangeException.ThrowIfNegative(vocabularySize);
        var rows = (long)batchSize * tokenCount;
        CheckLength(tokens.Length, rows, nameof(tokens), "[B, T]");
        CheckLength(embeddingOutputGradient.Length, rows * channels, nameof(embeddingOutputGradient), "[B, T, C]");
        CheckLength(headInput.Length, rows * channels, nameof(headInput), "[B, T, C]");
        CheckLength(headOutputGradient.Length, rows * vocabularySize, nameof(headOutputGradient), "[B, T, V]");
        CheckLength(crossTerms.Length, batchSize, nameof(crossTerms), "[B]");
        for (var example = 0; example < batchSize; example++)
        {
            double sum = 0;
            for (var t = 0; t < tokenCount; t++)
            {
                var row = example * tokenCount + t;
                var id = tokens[row];
                if ((uint)id >= (uint)vocabularySize) throw new ArgumentOutOfRangeException(nameof(tokens), id, $"Token ids must be in [0, {vocabularySize}).");
                var embeddingGradient = embeddingOutputGradient.Slice(row * channels, channels);
                for (var other = 0; other < tokenCount; other++)
                {
                    var otherRow = example * tokenCount + other;
                    double logitGradient = headOutputGradient[otherRow * vocabularySize + id];
                    if (logitGradient == 0) continue;
                    sum += logitGradient * Dot(headInput.Slice(otherRow * channels, channels), embeddingGradient);
                }
            }

            crossTerms[example] = sum;
        }
    }

    private static double Dot(ReadOnlySpan<float> left, ReadOnlySpan<float> right)
    {
        double sum = 0;
        for (var index = 0; index < left.Length; index++) sum += (double)left[index] * right[index];
        return sum;
    }

    private static void CheckSizes(int batchSize, int tokenCount, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(tokenCount);
        ArgumentOutOfRangeException.ThrowIfNegative(channels);
    }

    private static void CheckOptional(Span<double> destination, int batchSize, string name)
    {
        if (!destination.IsEmpty) CheckLength(destination.Length, batchSize, name, "[B]");
    }

    private static void CheckLength(int actual, long expected, string name, string shape)
    {
        if (actual != expected) throw new ArgumentException($"{name} has {actual} elements but its shape {shape} needs {expected}.", name);
    }
}
