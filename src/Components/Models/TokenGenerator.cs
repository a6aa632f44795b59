using Pipelines.Components.Compute;

namespace Pipelines.Components.Models;

/// <summary>How <see cref="TokenGenerator"/> samples the next token.</summary>
public sealed record GenerationOptions
{
    /// <summary>Softmax temperature; 0 picks the most likely token (greedy).</summary>
    public double Temperature { get; init; } = 0.8;

    /// <summary>Sample only among the k most likely tokens (0 = all).</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Seed of the sampler (the same seed and prompt give the same text).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (!(Temperature >= 0) || double.IsInfinity(Temperature)) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Must be a finite number >= 0.");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "Must not be negative.");
    }
}

/// <summary>Autoregressive sampling from a causal language model (temperature and top-k).</summary>
/// <remarks>
/// Each new token re-runs the model over the last <c>ContextLength</c> tokens (no key/value cache): simple,
/// exact, and fast enough for the small models this engine trains.
/// </remarks>
public static class TokenGenerator
{
    /// <summary>Returns <paramref name="newTokenCount"/> tokens that continue <paramref name="prompt"/>.</summary>
    /// <exception cref="ArgumentException">The prompt is empty.</exception>
    public static int[] Generate(ICausalLanguageModel model, ReadOnlySpan<int> prompt, int newTokenCount, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(newTokenCount);
        if (prompt.IsEmpty) throw new ArgumentException("The prompt needs at least one token.", nameof(prompt));

        var context = model.Config.ContextLength;
        var vocabulary = model.Config.VocabularySize;
        var sequence = new List<int>(prompt.Length + newTokenCount);
        foreach (var token in prompt) sequence.Add(token);
        var random = new SeededRandom(options.Seed);
        var weights = new double[vocabulary];
        var order = new int[vocabulary];
        var sortKeys = new float[vocabulary];
        var generated = new int[newTokenCount];
        for (var index = 0; index < newTokenCount; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var window = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sequence);
            if (window.Length > context) window = window[^context..];
            model.Forward(window, ReadOnlySpan<int>.Empty, 1, window.Length);
            var last = model.Logits.Slice((window.Length - 1) * vocabulary, vocabulary);
            generated[index] = Pick(last, options, random, weights, order, sortKeys);
            sequence.Add(generated[index]);
        }

        return generated;
    }

    private static int Pick(ReadOnlySpan<float> logits, GenerationOptions options, SeededRandom random, double[] weights, int[] order, float[] keys)
    {
        var vocabulary = logits.Length;
        if (options.Temperature == 0) return System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
        for (var token = 0; token < vocabulary; token++) order[token] = token;
        var candidates = options.TopK == 0 ? vocabulary : Math.Min(options.TopK, vocabulary);
        if (candidates < vocabulary)
        {
            for (var token = 0; token < vocabulary; token++) keys[token] = -logits[token];
            Array.Sort(keys, order); // deterministic for equal inputs
        }

        var maximum = double.NegativeInfinity;
        for (var rank = 0; rank < candidates; rank++) maximum = Math.Max(maximum, logits[order[rank]]);
        double total = 0;
        for (var rank = 0; rank < candidates; rank++)
        {
            weights[rank] = Math.Exp((logits[order[rank]] - maximum) / options.Temperature);
            total += weights[rank];
        }

        var threshold = random.NextDouble() * total;
        for (var rank = 0; rank < candidates; rank++)
        {
            threshold -= weights[rank];
            if (threshold < 0) return order[rank];
        }

        return order[candidates - 1];
    }
}
