using System.Collections.Concurrent;
using Pipelines.Components.Compute;
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
/// Runs a trained GPT for scoring and generation from any number of threads at once: each call borrows an engine
/// model (one per concurrent caller, made on demand from the same weights) and gives it back.
/// </summary>
internal sealed class LanguageModelScorer
{
    /// <summary>Full windows scored in one forward pass.</summary>
    private const int WindowsPerBatch = 8;

    private readonly float[] weights;
    private readonly ConcurrentBag<GptModel> idle = [];

    /// <exception cref="ArgumentException"><paramref name="weights"/> is not laid out for a GPT of <paramref name="config"/>.</exception>
    public LanguageModelScorer(TransformerConfig config, float[] weights, Parallelism parallelism)
    {
        Config = config;
        this.weights = weights;
        Parallelism = parallelism;
        var first = new GptModel(config, parallelism);
        if (first.Parameters.BufferLength != weights.Length)
            throw new ArgumentException($"{weights.Length} weights do not fit a GPT of this shape ({first.Parameters.BufferLength}).", nameof(weights));
        weights.CopyTo(first.Parameters.Values);
        ParameterCount = first.Parameters.ParameterCount;
        idle.Add(first);
    }

    public TransformerConfig Config { get; }

    public Parallelism Parallelism { get; }

    /// <summary>Number of weights (without the arena's alignment padding).</summary>
    public long ParameterCount { get; }

    /// <summary>The parameter values, laid out as the arena of a <see cref="GptModel"/> of <see cref="Config"/>.</summary>
    public ReadOnlySpan<float> Weights => weights;

    /// <summary>A new engine model holding these weights; the caller owns it.</summary>
    public GptModel CreateModel()
    {
        var model = new GptModel(Config, Parallelism);
        weights.CopyTo(model.Parameters.Values);
        return model;
    }

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
        var model = Rent();
        try
        {
            for (var first = 0; first < fullWindows; first += WindowsPerBatch)
            {
                var batch = Math.Min(WindowsPerBatch, fullWindows - first);
                for (var window = 0; window < batch; window++) Copy(sequence, (first + window) * context, context, inputs, targets, window * context);
                sum += ForwardSum(model, inputs, targets, batch, context);
            }

            var rest = count - fullWindows * context;
            if (rest > 0)
            {
                Copy(sequence, fullWindows * context, rest, inputs, targets, 0);
                sum += ForwardSum(model, inputs, targets, 1, rest);
            }
        }
        finally
        {
            idle.Add(model);
        }

        return new SequenceScore(sum, count);
    }

    /// <summary>Continues <paramref name="prompt"/> by <paramref name="count"/> tokens (see <see cref="TokenGenerator"/>).</summary>
    public int[] Generate(ReadOnlySpan<int> prompt, int count, GenerationOptions options, CancellationToken cancellationToken)
    {
        CheckIds(prompt, "the prompt");
        var model = Rent();
        try
        {
            return TokenGenerator.Generate(model, prompt, count, options, cancellationToken);
        }
        finally
        {
            idle.Add(model);
        }
    }

    private GptModel Rent() => idle.TryTake(out var model) ? model : CreateModel();

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

    private static double ForwardSum(GptModel model, int[] inputs, int[] targets, int batchSize, int tokenCount)
    {
        var size = batchSize * tokenCount;
        model.Forward(inputs.AsSpan(0, size), targets.AsSpan(0, size), batchSize, tokenCount);
        double sum = 0;
        foreach (var loss in model.Losses) sum += loss;
        return sum;
    }
}
