using Pipelines.Components.Backends;
using Pipelines.Components.Models;

namespace Pipelines.Pretraining;

/// <summary>The summed next-token loss of a sequence and the number of tokens it covers.</summary>
/// <param name="LossSum">Sum of the per-token cross-entropies, in nats.</param>
/// <param name="TokenCount">Tokens predicted.</param>
internal readonly record struct SequenceScore(double LossSum, int TokenCount)
{
    /// <summary>The mean loss, NaN (missing) when no token was predicted.</summary>
    public double MeanLoss => TokenCount == 0 ? double.NaN : LossSum / TokenCount;
}

/// <summary>
/// Scores and generates with a trained GPT on its backend from any number of threads at once (the backend model is
/// thread-safe for both): this class adds the document windowing and the id checks that name the row.
/// </summary>
internal sealed class LanguageModelScorer(IBackendLanguageModel model)
{
    /// <summary>Full windows scored in one forward pass.</summary>
    private const int WindowsPerBatch = 8;

    /// <summary>The model behind the boundary.</summary>
    public IBackendLanguageModel Model { get; } = model ?? throw new ArgumentNullException(nameof(model));

    public TransformerConfig Config => Model.Config;

    /// <summary>Number of weights.</summary>
    public long ParameterCount => Model.ParameterCount;

    /// <summary>
    /// Scores <paramref name="tokens"/> as a document: the sequence <c>eot tokens...</c> predicts every token, in windows
    /// of the context length that do not overlap (each window starts a fresh context).
    /// </summary>
    /// <param name="tokens">The document's ids.</param>
    /// <param name="endOfTextId">The id before the document.</param>
    /// <param name="source">Where the tokens come from, for errors ("column 'Tokens', row 3").</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public SequenceScore Score(ReadOnlySpan<int> tokens, int endOfTextId, string source)
    {
        CheckIds(tokens, source);
        var count = tokens.Length;
        if (count == 0) return new SequenceScore(0, 0);
        var sequence = new int[count + 1];
        sequence[0] = endOfTextId;
        tokens.CopyTo(sequence.AsSpan(1));

        var context = Config.ContextLength;
        var fullWindows = count / context;
        var inputs = new int[Math.Min(fullWindows, WindowsPerBatch) * context + context];
        var targets = new int[inputs.Length];
        double sum = 0;
        for (var first = 0; first < fullWindows; first += WindowsPerBatch)
        {
            var batch = Math.Min(WindowsPerBatch, fullWindows - first);
            for (var window = 0; window < batch; window++) Copy(sequence, (first + window) * context, context, inputs, targets, window * context);
            sum += ForwardSum(inputs, targets, batch, context);
        }

        var rest = count - fullWindows * context;
        if (rest > 0)
        {
            Copy(sequence, fullWindows * context, rest, inputs, targets, 0);
            sum += ForwardSum(inputs, targets, 1, rest);
        }

        return new SequenceScore(sum, count);
    }

    /// <summary>Continues <paramref name="prompt"/> by <paramref name="count"/> tokens (see <see cref="TokenGenerator"/>).</summary>
    public int[] Generate(ReadOnlySpan<int> prompt, int count, GenerationOptions options, CancellationToken cancellationToken)
    {
        CheckIds(prompt, "the prompt");
        return Model.Generate(prompt, count, options, cancellationToken);
    }

    private void CheckIds(ReadOnlySpan<int> tokens, string source)
    {
        for (var index = 0; index < tokens.Length; index++)
        {
            if ((uint)tokens[index] >= (uint)Config.VocabularySize)
                throw new ArgumentOutOfRangeException(nameof(tokens), tokens[index],
                    $"Token id {tokens[index]} at position {index} of {source} is outside the model's vocabulary [0, {Config.VocabularySize}).");
        }
    }

    private static void Copy(int[] sequence, int start, int length, int[] inputs, int[] targets, int offset)
    {
        sequence.AsSpan(start, length).CopyTo(inputs.AsSpan(offset));
        sequence.AsSpan(start + 1, length).CopyTo(targets.AsSpan(offset));
    }

    private double ForwardSum(int[] inputs, int[] targets, int batchSize, int tokenCount)
    {
        var size = batchSize * tokenCount;
        return Model.LossSum(inputs.AsSpan(0, size), targets.AsSpan(0, size), batchSize, tokenCount);
    }
}
