namespace Pipelines.Components.Kernels;

public static partial class Attention
{
    /// <summary>
    /// Plain single-threaded attention, loop for loop as the formulas read: the yardstick that tests hold
    /// the fast kernels to. Same arguments, checks and results as the enclosing class, without <c>Parallelism</c>.
    /// </summary>
    public static class Reference
    {
        /// <summary>Computes the attention output and probabilities; see <see cref="Attention.Forward"/>.</summary>
        /// <param name="qkv">[B, T, 3C]: queries, keys, values; head h at channels h·hs.. of each.</param>
        /// <param name="keyMask">[B, T]: 1 valid, 0 padding; empty means every key is valid.</param>
        /// <param name="output">[B, T, C]; overwritten.</param>
        /// <param name="probabilities">[B, H, T, T]; overwritten, 0 on masked and future keys.</param>
        /// <param name="batchSize">B.</param>
        /// <param name="tokenCount">T.</param>
        /// <param name="channels">C, divisible by <paramref name="headCount"/>.</param>
        /// <param name="headCount">H.</param>
        /// <param name="causal">Whether query i sees only keys j ≤ i.</param>
        /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or a mask value is neither 0 nor 1.</exception>
        /// <exception cref="ArgumentException">Indivisible channels, a wrong span length, or a query with no visible key.</exception>
        public static void Forward(ReadOnlySpan<float> qkv, ReadOnlySpan<byte> keyMask, Span<float> output, Span<float> probabilities,
            int batchSize, int tokenCount, int channels, int headCount, bool causal)
        {
            ValidateForward(qkv, keyMask, output, probabilities, batchSize, tokenCount, channels, headCount, causal);
            var headSize = channels / headCount;
            var scale = 1f / MathF.Sqrt(headSize);
            for (var batch = 0; batch < batchSize; batch++)
            for (var head = 0; head < headCount; head++)
            for (var query = 0; query < tokenCount; query++)
            {
                var queryOffset = (batch * tokenCount + query) * 3 * channels + head * headSize;
                var rowOffset = ((batch * headCount + head) * tokenCount + query) * tokenCount;

                var maximum = float.NegativeInfinity;
                for (var key = 0; key < tokenCount; key++)
                {
                    if (!IsVisible(keyMask, batch, tokenCount, query, key, causal)) continue;
                    var keyOffset = (batch * tokenCount + key) * 3 * channels + channels + head * headSize;
                    var score = 0f;
                    for (var index = 0; index < headSize; index++) score += qkv[queryOffset + index] * qkv[keyOffset + index];
                    score *= scale;
                    probabilities[rowOffset + key] = score;
                    maximum = MathF.Max(maximum, score);
                }

                var sum = 0f;
                for (var key = 0; key < tokenCount; key++)
                {
                    var weight = IsVisible(keyMask, batch, tokenCount, query, key, causal) ? MathF.Exp(probabilities[rowOffset + key] - maximum) : 0f;
                    probabilities[rowOffset + key] = weight;
                    sum += weight;
                }

                for (var key = 0; key < tokenCount; key++) probabilities[rowOffset + key] /= sum;

                var outputOffset = (batch * tokenCount + query) * channels + head * headSize;
                for (var index = 0; index < headSize; index++)
                {
                    var value = 0f;
                    for (var key = 0; key < tokenCount; key++)
                    {
                        var valueOffset = (batch * tokenCount + key) * 3 * channels + 2 * channels + head * headSize;
                        value += probabilities[rowOffset + key] * qkv[valueOffset + index];
                    }

                    output[outputOffset + index] = value;
                }
            }
        }

        /// <summary>Accumulates the qkv gradient; see <see cref="Attention.Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, int, Compute.Parallelism)"/>.</summary>
        /// <param name="outputGradient">[B, T, C].</param>
        /// <param name="qkv">[B, T, 3C]: the forward input.</param>
        /// <param name="probabilities">[B, H, T, T]: as written by forward.</param>
        /// <param name="qkvGradient">[B, T, 3C]: accumulated into (+=); empty to skip.</param>
        /// <param name="batchSize">B.</param>
        /// <param name="tokenCount">T.</param>
        /// <param name="channels">C, divisible by <paramref name="headCount"/>.</param>
        /// <param name="headCount">H.</param>
        /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
        /// <exception cref="ArgumentException">Indivisible channels or a wrong span length.</exception>
        public static void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> qkv, ReadOnlySpan<float> probabilities,
            Span<float> qkvGradient, int batchSize, int tokenCount, int channels, int headCount)
        {
            ValidateBackward(outputGradient, qkv, probabilities, qkvGradient, batchSize, tokenCount, channels, headCount);
            if (qkvGradient.IsEmpty) return;
            var headSize = channels / headCount;
            var scale = 1f / MathF.Sqrt(headSize);
            var probabilityGradient = new float[tokenCount];
            for (var batch = 0; batch < batchSize; batch++)
            for (var head = 0; head < headCount; head++)
            for (var query = 0; query < tokenCount; query++)
            {
                var rowOffset = ((batch * headCount + head) * tokenCount + query) * tokenCount;
                var gradientOffset = (batch * tokenCount + query) * channels + head * headSize;
                var queryOffset = (batch * tokenCount + query) * 3 * channels + head * headSize;

                // dP[j] = dy · v_j and dv_j += P[j] dy.
                for (var key = 0; key < tokenCount; key++)
                {
                    var valueOffset = (batch * tokenCount + key) * 3 * channels + 2 * channels + head * headSize;
                    var probability = probabilities[rowOffset + key];
                    var dot = 0f;
                    for (var index = 0; index < headSize; index++)
                    {
                        dot += outputGradient[gradientOffset + index] * qkv[valueOffset + index];
                        qkvGradient[valueOffset + index] += probability * outputGradient[gradientOffset + index];
                    }

                    probabilityGradient[key] = dot;
                }

                var expected = 0f;
                for (var key = 0; key < tokenCount; key++) expected += probabilities[rowOffset + key] * probabilityGradient[key];

                // dS[j] = P[j] (dP[j] - Σ P dP); the scores were q · k / √hs.
                for (var key = 0; key < tokenCount; key++)
                {
                    var scoreGradient = probabilities[rowOffset + key] * (probabilityGradient[key] - expected) * scale;
                    var keyOffset = (batch * tokenCount + key) * 3 * channels + channels + head * headSize;
                    for (var index = 0; index < headSize; index++)
                    {
                        qkvGradient[queryOffset + index] += scoreGradient * qkv[keyOffset + index];
                        qkvGradient[keyOffset + index] += scoreGradient * qkv[queryOffset + index];
                    }
                }
            }
        }

        private static bool IsVisible(ReadOnlySpan<byte> keyMask, int batch, int tokenCount, int query, int key, bool causal) =>
            (!causal || key <= query) && (keyMask.IsEmpty || keyMask[batch * tokenCount + key] != 0);
    }
}
