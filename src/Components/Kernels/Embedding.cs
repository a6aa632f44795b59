using System.Buffers;
using System.Numerics.Tensors;
using Pipelines.Components.Compute;

namespace Pipelines.Components.Kernels;

/// <summary>Token embedding plus learned position embedding, as GPT-2's input layer.</summary>
/// <remarks>
/// <c>output[b,t] = tokenTable[tokens[b,t]] + positionTable[t]</c>. Backward adds <c>outputGradient[b,t]</c>
/// to row <c>tokens[b,t]</c> of the token-table gradient and to row <c>t</c> of the position-table gradient.
/// The fast backward gives each thread whole table rows, and every row sums its contributions in
/// ascending (b, t) order exactly as the reference does, so the result is the same bits for any thread count.
/// </remarks>
public static class Embedding
{
    private const int MinimumChunkElements = 16 * 1024; // a chunk below this costs more to schedule than to run

    /// <summary>Writes the sum of each token's embedding and its position's embedding.</summary>
    /// <param name="tokens">Token ids in [0, V), B×T.</param>
    /// <param name="tokenTable">Token embeddings, V×C.</param>
    /// <param name="positionTable">Position embeddings, maxT×C with maxT ≥ T.</param>
    /// <param name="output">Destination, B×T×C (overwritten).</param>
    /// <param name="batchSize">B, the number of sequences.</param>
    /// <param name="tokenCount">T, the tokens per sequence (at most the position table's rows).</param>
    /// <param name="channels">C, the embedding width.</param>
    /// <param name="vocabularySize">V, the number of token ids.</param>
    /// <param name="parallelism">Threads to use.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, <paramref name="tokenCount"/> exceeds the position table's rows, or a token id is outside [0, V).</exception>
    /// <exception cref="ArgumentException">A span's length does not match the shape.</exception>
    public static unsafe void Forward(ReadOnlySpan<int> tokens, ReadOnlySpan<float> tokenTable, ReadOnlySpan<float> positionTable, Span<float> output, int batchSize, int tokenCount, int channels, int vocabularySize, Parallelism parallelism)
    {
        CheckSizes(tokens, batchSize, tokenCount, channels, vocabularySize);
        KernelGuard.RequireLength(tokenTable.Length, (long)vocabularySize * channels, nameof(tokenTable));
        CheckPositionTable(positionTable.Length, tokenCount, channels, nameof(positionTable));
        KernelGuard.RequireLength(output.Length, (long)batchSize * tokenCount * channels, nameof(output));
        CheckTokens(tokens, vocabularySize);
        var rows = batchSize * tokenCount;
        var positionLength = positionTable.Length;
        fixed (int* tokensPointer = tokens)
        fixed (float* tokenTablePointer = tokenTable, positionTablePointer = positionTable, outputPointer = output)
        {
            var tokensAddress = tokensPointer;
            float* tokenTableAddress = tokenTablePointer, positionTableAddress = positionTablePointer, outputAddress = outputPointer;
            parallelism.For(rows, (start, end) =>
            {
                for (var row = start; row < end; row++)
                {
                    TensorPrimitives.Add(
                        new ReadOnlySpan<float>(tokenTableAddress + tokensAddress[row] * channels, channels),
                        new ReadOnlySpan<float>(positionTableAddress + row % tokenCount * channels, channels),
                        new Span<float>(outputAddress + row * channels, channels));
                }
            }, Math.Max(1, MinimumChunkElements / channels));
        }
    }

    /// <summary>Adds the output gradient into the rows of both tables that forward read.</summary>
    /// <param name="tokens">Token ids in [0, V), B×T.</param>
    /// <param name="outputGradient">Gradient with respect to the output, B×T×C.</param>
    /// <param name="tokenTableGradient">Accumulated (<c>+=</c>), V×C, or empty to skip.</param>
    /// <param name="positionTableGradient">Accumulated (<c>+=</c>), maxT×C with maxT ≥ T, or empty to skip.</param>
    /// <param name="batchSize">B, the number of sequences.</param>
    /// <param name="tokenCount">T, the tokens per sequence.</param>
    /// <param name="channels">C, the embedding width.</param>
    /// <param name="vocabularySize">V, the number of token ids.</param>
    /// <param name="parallelism">Threads to use.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, <paramref name="tokenCount"/> exceeds the position table's rows, or a token id is outside [0, V).</exception>
    /// <exception cref="ArgumentException">A (non-empty) span's length does not match the shape.</exception>
    public static unsafe void Backward(ReadOnlySpan<int> tokens, ReadOnlySpan<float> outputGradient, Span<float> tokenTableGradient, Span<float> positionTableGradient, int batchSize, int tokenCount, int channels, int vocabularySize, Parallelism parallelism)
    {
        CheckBackward(tokens, outputGradient, tokenTableGradient, positionTableGradient, batchSize, tokenCount, channels, vocabularySize);
        if (tokenTableGradient.IsEmpty && positionTableGradient.IsEmpty) return;
        var rows = batchSize * tokenCount;
        var partCount = Math.Min(parallelism.ThreadCount, Math.Max(1, rows / Math.Max(1, MinimumChunkElements / channels)));
        if (partCount == 1)
        {
            BackwardSequential(tokens, outputGradient, tokenTableGradient, positionTableGradient, tokenCount, channels);
            return;
        }

        // Rows grouped by token id (a stable counting sort keeps each id's rows in ascending order); each part
        // then owns a run of whole ids holding about rows/parts rows, so no table row is written by two threads.
        var hasTokenGradient = !tokenTableGradient.IsEmpty;
        var counts = hasTokenGradient ? ArrayPool<int>.Shared.Rent(vocabularySize + 1) : null;
        var order = hasTokenGradient ? ArrayPool<int>.Shared.Rent(rows) : null;
        try
        {
            if (hasTokenGradient) GroupRowsByToken(tokens, vocabularySize, counts!, order!);
            var gradientLength = outputGradient.Length;
            var tokenGradientLength = tokenTableGradient.Length;
            var positionGradientLength = positionTableGradient.Length;
            fixed (int* orderPointer = order, tokensPointer = tokens)
            fixed (float* outputGradientPointer = outputGradient, tokenTableGradientPointer = tokenTableGradient, positionTableGradientPointer = positionTableGradient)
            {
                int* orderAddress = orderPointer, tokensAddress = tokensPointer;
                float* outputGradientAddress = outputGradientPointer, tokenGradientAddress = tokenTableGradientPointer, positionGradientAddress = positionTableGradientPointer;
                parallelism.For(partCount, (firstPart, endPart) =>
                {
                    var incoming = new ReadOnlySpan<float>(outputGradientAddress, gradientLength);
                    for (var part = firstPart; part < endPart; part++)
                    {
                        if (tokenGradientLength > 0)
                        {
                            AccumulateTokenPart(new ReadOnlySpan<int>(tokensAddress, rows), new ReadOnlySpan<int>(orderAddress, rows), incoming,
                                new Span<float>(tokenGradientAddress, tokenGradientLength), channels, part, partCount);
                        }

                        if (positionGradientLength > 0)
                        {
                            AccumulatePositionPart(incoming, new Span<float>(positionGradientAddress, positionGradientLength),
                                batchSize, tokenCount, channels, part, partCount);
                        }
                    }
                });
            }
        }
        finally
        {
            if (counts is not null) ArrayPool<int>.Shared.Return(counts);
            if (order is not null) ArrayPool<int>.Shared.Return(order);
        }
    }

    // One thread: rows in ascending order, which is also each table row's summation order.
    private static void BackwardSequential(ReadOnlySpan<int> tokens, ReadOnlySpan<float> outputGradient, Span<float> tokenTableGradient, Span<float> positionTableGradient, int tokenCount, int channels)
    {
        for (var row = 0; row < tokens.Length; row++)
        {
            var incoming = outputGradient.Slice(row * channels, channels);
            if (!tokenTableGradient.IsEmpty)
            {
                var tableRow = tokenTableGradient.Slice(tokens[row] * channels, channels);
                TensorPrimitives.Add(tableRow, incoming, tableRow);
            }

            if (!positionTableGradient.IsEmpty)
            {
                var tableRow = positionTableGradient.Slice(row % tokenCount * channels, channels);
                TensorPrimitives.Add(tableRow, incoming, tableRow);
            }
        }
    }

    // Adds the rows of one part of the sorted order (whole token ids) into the token-table gradient.
    private static void AccumulateTokenPart(ReadOnlySpan<int> tokens, ReadOnlySpan<int> sorted, ReadOnlySpan<float> outputGradient, Span<float> tokenTableGradient, int channels, int part, int partCount)
    {
        var end = PartStart(tokens, sorted, part + 1, partCount);
        for (var index = PartStart(tokens, sorted, part, partCount); index < end; index++)
        {
            var row = sorted[index];
            var tableRow = tokenTableGradient.Slice(tokens[row] * channels, channels);
            TensorPrimitives.Add(tableRow, outputGradient.Slice(row * channels, channels), tableRow);
        }
    }

    // Adds every sequence's rows for one contiguous range of positions into the position-table gradient.
    private static void AccumulatePositionPart(ReadOnlySpan<float> outputGradient, Span<float> positionTableGradient, int batchSize, int tokenCount, int channels, int part, int partCount)
    {
        var firstPosition = (int)((long)tokenCount * part / partCount);
        var endPosition = (int)((long)tokenCount * (part + 1) / partCount);
        for (var batch = 0; batch < batchSize; batch++)
        {
            for (var position = firstPosition; position < endPosition; position++)
            {
                var tableRow = positionTableGradient.Slice(position * channels, channels);
                TensorPrimitives.Add(tableRow, outputGradient.Slice((batch * tokenCount + position) * channels, channels), tableRow);
            }
        }
    }

    // Writes into order[0, rows) the row indices sorted by token id, ascending row order within an id.
    internal static void GroupRowsByToken(ReadOnlySpan<int> tokens, int vocabularySize, int[] counts, int[] order)
    {
        var starts = counts.AsSpan(0, vocabularySize + 1);
        starts.Clear();
        foreach (var token in tokens) starts[token + 1]++;
        for (var id = 1; id <= vocabularySize; id++) starts[id] += starts[id - 1];
        for (var row = 0; row < tokens.Length; row++) order[starts[tokens[row]]++] = row;
    }

    // The first sorted index of a part: about rows·part/parts, moved forward to the start of the next token id
    // so that one id's rows never straddle two parts.
    internal static int PartStart(ReadOnlySpan<int> tokens, ReadOnlySpan<int> sorted, int part, int partCount)
    {
        var index = (int)((long)sorted.Length * part / partCount);
        if (index == 0 || index == sorted.Length) return index;
        var previous = tokens[sorted[index - 1]];
        while (index < sorted.Length && tokens[sorted[index]] == previous) index++;
        return index;
    }

    private static void CheckSizes(ReadOnlySpan<int> tokens, int batchSize, int tokenCount, int channels, int vocabularySize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokenCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        KernelGuard.RequireLength(tokens.Length, (long)batchSize * tokenCount, nameof(tokens));
    }

    private static void CheckBackward(ReadOnlySpan<int> tokens, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> tokenTableGradient, ReadOnlySpan<float> positionTableGradient, int batchSize, int tokenCount, int channels, int vocabularySize)
    {
        CheckSizes(tokens, batchSize, tokenCount, channels, vocabularySize);
        KernelGuard.RequireLength(outputGradient.Length, (long)batchSize * tokenCount * channels, nameof(outputGradient));
        if (!tokenTableGradient.IsEmpty) KernelGuard.RequireLength(tokenTableGradient.Length, (long)vocabularySize * channels, nameof(tokenTableGradient));
        if (!positionTableGradient.IsEmpty) CheckPositionTable(positionTableGradient.Length, tokenCount, channels, nameof(positionTableGradient));
        CheckTokens(tokens, vocabularySize);
    }

    private static void CheckPositionTable(int length, int tokenCount, int channels, string name)
    {
        if (length % channels != 0)
            throw new ArgumentException($"Length {length} is not a whole number of rows of {channels} channels.", name);
        if (tokenCount > length / channels)
            throw new ArgumentOutOfRangeException(nameof(tokenCount), tokenCount, $"{name} has only {length / channels} rows (positions).");
    }

    private static void CheckTokens(ReadOnlySpan<int> tokens, int vocabularySize)
    {
        for (var index = 0; index < tokens.Length; index++)
        {
            var token = tokens[index];
            if ((uint)token >= (uint)vocabularySize)
                throw new ArgumentOutOfRangeException(nameof(tokens), token, $"tokens[{index}] = {token} is outside [0, {vocabularySize}).");
        }
    }

    /// <summary>Plain single-threaded loops: the specification the fast kernel is tested against.</summary>
    public static class Reference
    {
        /// <summary>Writes token plus position embeddings; see <see cref="Embedding.Forward"/>.</summary>
        /// <param name="tokens">Token ids in [0, V), B×T.</param>
        /// <param name="tokenTable">Token embeddings, V×C.</param>
        /// <param name="positionTable">Position embeddings, maxT×C with maxT ≥ T.</param>
        /// <param name="output">Destination, B×T×C (overwritten).</param>
        /// <param name="batchSize">B.</param>
        /// <param name="tokenCount">T.</param>
        /// <param name="channels">C.</param>
        /// <param name="vocabularySize">V.</param>
        public static void Forward(ReadOnlySpan<int> tokens, ReadOnlySpan<float> tokenTable, ReadOnlySpan<float> positionTable, Span<float> output, int batchSize, int tokenCount, int channels, int vocabularySize)
        {
            CheckSizes(tokens, batchSize, tokenCount, channels, vocabularySize);
            KernelGuard.RequireLength(tokenTable.Length, (long)vocabularySize * channels, nameof(tokenTable));
            CheckPositionTable(positionTable.Length, tokenCount, channels, nameof(positionTable));
            KernelGuard.RequireLength(output.Length, (long)batchSize * tokenCount * channels, nameof(output));
            CheckTokens(tokens, vocabularySize);
            for (var batch = 0; batch < batchSize; batch++)
            {
                for (var position = 0; position < tokenCount; position++)
                {
                    var row = batch * tokenCount + position;
                    var token = tokens[row];
                    for (var channel = 0; channel < channels; channel++)
                        output[row * channels + channel] = tokenTable[token * channels + channel] + positionTable[position * channels + channel];
                }
            }
        }

        /// <summary>Adds the output gradient into both tables; see <see cref="Embedding.Backward"/>.</summary>
        /// <param name="tokens">Token ids in [0, V), B×T.</param>
        /// <param name="outputGradient">Gradient with respect to the output, B×T×C.</param>
        /// <param name="tokenTableGradient">Accumulated, V×C, or empty to skip.</param>
        /// <param name="positionTableGradient">Accumulated, maxT×C, or empty to skip.</param>
        /// <param name="batchSize">B.</param>
        /// <param name="tokenCount">T.</param>
        /// <param name="channels">C.</param>
        /// <param name="vocabularySize">V.</param>
        public static void Backward(ReadOnlySpan<int> tokens, ReadOnlySpan<float> outputGradient, Span<float> tokenTableGradient, Span<float> positionTableGradient, int batchSize, int tokenCount, int channels, int vocabularySize)
        {
            CheckBackward(tokens, outputGradient, tokenTableGradient, positionTableGradient, batchSize, tokenCount, channels, vocabularySize);
            for (var batch = 0; batch < batchSize; batch++)
            {
                for (var position = 0; position < tokenCount; position++)
                {
                    var row = batch * tokenCount + position;
                    var token = tokens[row];
                    for (var channel = 0; channel < channels; channel++)
                    {
                        var incoming = outputGradient[row * channels + channel];
                        if (!tokenTableGradient.IsEmpty) tokenTableGradient[token * channels + channel] += incoming;
                        if (!positionTableGradient.IsEmpty) positionTableGradient[position * channels + channel] += incoming;
                    }
                }
            }
        }
    }
}
