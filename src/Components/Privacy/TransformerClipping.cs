using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Models;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Privacy;

/// <summary>
/// Per-example clipping of a whole transformer from one batched forward and one backward pass: every parameter's
/// per-example squared norm from the kept activations and activation gradients, then <c>sum_i c_i g_i</c> rebuilt from
/// the same buffers with example i's output gradients scaled by <c>c_i</c>.
/// </summary>
/// <remarks>
/// Norms (B = examples, T = tokens, a = a layer's input, b = its output gradient):
/// Linear weight <c>sum_{t,t'} (a_t . a_t')(b_t . b_t')</c> (<see cref="GhostNorms.WeightSquaredNorms"/>; Li et al. 2021,
/// arXiv 2110.05679); biases and layer norms materialised per example (C numbers each); embeddings from the index
/// pattern (<see cref="PerExampleNorms.Embedding"/>); a head tied to the token table adds the cross term
/// <see cref="PerExampleNorms.TiedEmbeddingCrossTerms"/>. The clipped sum reuses the output gradients instead of a
/// second backward pass ("book-keeping", Bu et al. 2022, arXiv 2210.00038): each weight gradient is one Gemm with
/// example i's rows of b scaled by its group's <c>c_ig</c>, so flat and per-group clipping cost the same.
/// Padding rows (encoder) carry zero output gradients, so they add nothing to either.
/// </remarks>
internal sealed class TransformerClipping
{
    private readonly ParameterArena arena;
    private readonly int[] groupOf;                  // [P] group of each parameter
    private readonly Dictionary<int, double[]> exampleGradients = []; // per-example bias / norm gradients [B, length], by parameter index
    private double[] squaredNorms = [];              // [P, B]
    private double[] layerNorms = [];                // [B]
    private double[] groupNorms = [];                // [B, G]
    private double[] factors = [];                   // [B, G]
    private float[] scaled = [];                     // [N, width] output gradient with example rows scaled

    private readonly PrivateLoraClipping? adapter; // a LoRA adapter's A and B, clipped with the base parameters of their groups

    public TransformerClipping(ParameterArena arena, ClippingGroups groups, PrivateLoraClipping? adapter = null)
    {
        this.arena = arena;
        this.adapter = adapter;
        Groups = groups;
        groupOf = arena.Parameters.Select(groups.GroupOf).ToArray();
    }

    public ClippingGroups Groups { get; }

    public int BatchSize { get; private set; }

    public int ClippedCount { get; private set; }

    /// <summary>Each example's pre-clip norm per group, [B, G].</summary>
    public ReadOnlySpan<double> GroupNorms => groupNorms.AsSpan(0, BatchSize * Groups.Count);

    /// <summary>Each example's per-parameter squared norms, [P, B].</summary>
    public ReadOnlySpan<double> ParameterSquaredNorms => squaredNorms.AsSpan(0, arena.Parameters.Count * BatchSize);

    /// <summary>Computes the norms of the taps' examples and adds their clipped sum to the arena's gradients (trainable parameters only).</summary>
    /// <exception cref="InvalidOperationException">A trainable parameter has no tap: its gradient would be neither clipped nor computed.</exception>
    public void Run(PerExampleTaps taps, IReadOnlyList<bool> trainable, Parallelism parallelism)
    {
        var covered = CoveredParameters(taps);
        foreach (var parameter in arena.Parameters)
            if (trainable[parameter.Index] && !covered.Contains(parameter))
                throw new InvalidOperationException($"Trainable parameter '{parameter.Name}' has no per-example support in this model: freeze it, or add a tap for its layer.");

        var batchSize = BatchSize = taps.BatchSize;
        var groupCount = Groups.Count;
        Grow(ref squaredNorms, arena.Parameters.Count * batchSize);
        Array.Clear(squaredNorms);
        Grow(ref layerNorms, batchSize);
        Grow(ref groupNorms, batchSize * groupCount);
        Grow(ref factors, batchSize * groupCount);

        foreach (var linear in taps.Linears) AddLinearNorms(linear, batchSize, trainable, parallelism);
        foreach (var norm in taps.Norms) AddLayerNormNorms(norm, batchSize, taps.TokenCount, taps.Channels, trainable);
        AddEmbeddingNorms(taps, trainable, parallelism);
        ComputeFactors(trainable, taps);

        foreach (var linear in taps.Linears) AccumulateLinear(linear, batchSize, trainable, parallelism);
        foreach (var norm in taps.Norms)
        {
            AccumulateExampleGradient(norm.Scale, batchSize, trainable);
            AccumulateExampleGradient(norm.Shift, batchSize, trainable);
        }

        AccumulateEmbedding(taps, trainable, parallelism);
        adapter?.AccumulateClipped(taps, factors.AsSpan(0, batchSize * groupCount));
    }

    /// <summary>The parameters whose per-example gradients the taps give.</summary>
    internal static HashSet<ParameterSlice> CoveredParameters(PerExampleTaps taps)
    {
        var covered = new HashSet<ParameterSlice> { taps.Embedding.TokenTable, taps.Embedding.PositionTable };
        foreach (var linear in taps.Linears)
        {
            covered.Add(linear.Weight);
            if (linear.Bias is { } bias) covered.Add(bias);
        }

        foreach (var norm in taps.Norms) covered.UnionWith([norm.Scale, norm.Shift]);
        return covered;
    }

    private void AddLinearNorms(LinearTap tap, int batchSize, IReadOnlyList<bool> trainable, Parallelism parallelism)
    {
        var tokens = tap.TokensPerExample;
        if (trainable[tap.Weight.Index])
        {
            GhostNorms.WeightSquaredNorms(tap.Input, tap.OutputGradient, layerNorms, batchSize, tokens, tap.InChannels, tap.OutChannels, parallelism);
            AddToSlot(tap.Weight, layerNorms);
        }

        if (tap.Bias is not { } bias || !trainable[bias.Index]) return;
        var sums = ExampleGradient(bias, batchSize);
        for (var example = 0; example < batchSize; example++)
        {
            var row = sums.AsSpan(example * bias.Length, bias.Length);
            for (var t = 0; t < tokens; t++)
            {
                var gradient = tap.OutputGradient.AsSpan((example * tokens + t) * tap.OutChannels, tap.OutChannels);
                for (var o = 0; o < row.Length; o++) row[o] += gradient[o];
            }
        }

        AddExampleSquares(bias, sums, batchSize);
    }

    private void AddLayerNormNorms(LayerNormTap tap, int batchSize, int tokens, int channels, IReadOnlyList<bool> trainable)
    {
        var (hasScale, hasShift) = (trainable[tap.Scale.Index], trainable[tap.Shift.Index]);
        if (!hasScale && !hasShift) return;
        var scale = ExampleGradient(tap.Scale, batchSize); // [B, C] sum_t b_t * x^_t
        var shift = ExampleGradient(tap.Shift, batchSize); // [B, C] sum_t b_t
        for (var example = 0; example < batchSize; example++)
        {
            var scaleRow = scale.AsSpan(example * channels, channels);
            var shiftRow = shift.AsSpan(example * channels, channels);
            for (var t = 0; t < tokens; t++)
            {
                var row = example * tokens + t;
                var (mean, reciprocal) = (tap.Mean[row], tap.ReciprocalStandardDeviation[row]);
                var input = tap.Input.AsSpan(row * channels, channels);
                var gradient = tap.OutputGradient.AsSpan(row * channels, channels);
                for (var c = 0; c < channels; c++)
                {
                    var normalized = (input[c] - mean) * reciprocal;
                    scaleRow[c] += (double)gradient[c] * normalized;
                    shiftRow[c] += gradient[c];
                }
            }
        }

        if (hasScale) AddExampleSquares(tap.Scale, scale, batchSize);
        if (hasShift) AddExampleSquares(tap.Shift, shift, batchSize);
    }

    private void AddEmbeddingNorms(PerExampleTaps taps, IReadOnlyList<bool> trainable, Parallelism parallelism)
    {
        var embedding = taps.Embedding;
        var (hasTokens, hasPositions) = (trainable[embedding.TokenTable.Index], trainable[embedding.PositionTable.Index]);
        if (!hasTokens && !hasPositions) return;
        var (batchSize, tokenCount, channels) = (taps.BatchSize, taps.TokenCount, taps.Channels);
        var rows = batchSize * tokenCount;
        var tokenIds = embedding.Tokens.AsSpan(0, rows);
        var gradient = embedding.OutputGradient.AsSpan(0, rows * channels);
        var tokenSquares = new double[batchSize];
        var positionSquares = new double[batchSize];
        PerExampleNorms.Embedding(tokenIds, gradient, hasTokens ? tokenSquares : [], hasPositions ? positionSquares : [], batchSize, tokenCount, channels);
        if (hasPositions) AddToSlot(embedding.PositionTable, positionSquares);
        if (!hasTokens) return;
        AddToSlot(embedding.TokenTable, tokenSquares);
        foreach (var head in taps.Linears.Where(linear => linear.Weight == embedding.TokenTable))
        {
            // ||e_i + h_i||^2 = ||e_i||^2 + ||h_i||^2 + 2 <e_i, h_i>: the head's own square is already in the slot.
            TiedCrossTerms(embedding.Tokens, embedding.OutputGradient, head.Input, head.OutputGradient, tokenSquares, tokenCount, channels, head.OutChannels, parallelism);
            for (var example = 0; example < batchSize; example++) tokenSquares[example] *= 2;
            AddToSlot(embedding.TokenTable, tokenSquares);
        }
    }

    /// <summary>The fast form of <see cref="PerExampleNorms.TiedEmbeddingCrossTerms"/>: <c>x_t' . b_t</c> for all pairs by one Gemm per example.</summary>
    private static void TiedCrossTerms(
        int[] tokens, float[] embeddingGradient, float[] headInput, float[] headGradient, double[] crossTerms, int tokenCount, int channels, int vocabulary, Parallelism parallelism)
    {
        var state = (tokens, embeddingGradient, headInput, headGradient, crossTerms, tokenCount, channels, vocabulary);
        parallelism.For(crossTerms.Length, state, static (s, start, end) =>
        {
            var (ids, b, x, g, destination, tokenCount, channels, vocabulary) = s;
            var products = new float[tokenCount * tokenCount]; // [T, T] b_t . x_t'
            for (var example = start; example < end; example++)
            {
                var offset = example * tokenCount * channels;
                Gemm.Multiply(b.AsSpan(offset), channels, false, x.AsSpan(offset), channels, true, products, tokenCount,
                    tokenCount, tokenCount, channels, 1f, 0f, Parallelism.Sequential);
                double sum = 0;
                for (var t = 0; t < tokenCount; t++)
                {
                    var id = ids[example * tokenCount + t];
                    for (var other = 0; other < tokenCount; other++)
                        sum += (double)products[t * tokenCount + other] * g[(long)(example * tokenCount + other) * vocabulary + id];
                }

                destination[example] = sum;
            }
        });
    }

    private void ComputeFactors(IReadOnlyList<bool> trainable, PerExampleTaps taps)
    {
        var (batchSize, groupCount) = (BatchSize, Groups.Count);
        groupNorms.AsSpan(0, batchSize * groupCount).Clear();
        for (var parameter = 0; parameter < groupOf.Length; parameter++)
        {
            if (!trainable[parameter]) continue;
            for (var example = 0; example < batchSize; example++)
                groupNorms[example * groupCount + groupOf[parameter]] += squaredNorms[parameter * batchSize + example];
        }

        adapter?.AddSquaredNorms(taps, groupNorms.AsSpan(0, batchSize * groupCount));

        ClippedCount = 0;
        for (var example = 0; example < batchSize; example++)
        {
            var clipped = false;
            for (var group = 0; group < groupCount; group++)
            {
                var index = example * groupCount + group;
                groupNorms[index] = Math.Sqrt(groupNorms[index]);
                factors[index] = ClippedGradientSum.ClipFactor(groupNorms[index], Groups.ClipNorms[group]);
                clipped |= factors[index] < 1;
            }

            if (clipped) ClippedCount++;
        }
    }

    private void AccumulateLinear(LinearTap tap, int batchSize, IReadOnlyList<bool> trainable, Parallelism parallelism)
    {
        if (tap.Bias is { } bias) AccumulateExampleGradient(bias, batchSize, trainable);
        if (!trainable[tap.Weight.Index]) return;
        var rows = batchSize * tap.TokensPerExample;
        // (c b)^T a = b^T (c a): scale whichever of the two is narrower.
        var scaleInput = tap.InChannels < tap.OutChannels;
        ReadOnlySpan<float> input = scaleInput
            ? ScaledRows(tap.Input, tap.Weight, batchSize, tap.TokensPerExample, tap.InChannels)
            : tap.Input.AsSpan(0, rows * tap.InChannels);
        ReadOnlySpan<float> outputGradient = scaleInput
            ? tap.OutputGradient.AsSpan(0, rows * tap.OutChannels)
            : ScaledRows(tap.OutputGradient, tap.Weight, batchSize, tap.TokensPerExample, tap.OutChannels);
        Linear.Backward(outputGradient, input, ReadOnlySpan<float>.Empty, Span<float>.Empty,
            arena.GradientsOf(tap.Weight), Span<float>.Empty, rows, tap.InChannels, tap.OutChannels, parallelism);
    }

    private void AccumulateEmbedding(PerExampleTaps taps, IReadOnlyList<bool> trainable, Parallelism parallelism)
    {
        var embedding = taps.Embedding;
        var (batchSize, tokenCount, channels) = (taps.BatchSize, taps.TokenCount, taps.Channels);
        var tokenIds = embedding.Tokens.AsSpan(0, batchSize * tokenCount);
        var vocabulary = embedding.TokenTable.Shape[0];
        if (trainable[embedding.TokenTable.Index])
            Embedding.Backward(tokenIds, ScaledRows(embedding.OutputGradient, embedding.TokenTable, batchSize, tokenCount, channels),
                arena.GradientsOf(embedding.TokenTable), Span<float>.Empty, batchSize, tokenCount, channels, vocabulary, parallelism);
        if (trainable[embedding.PositionTable.Index])
            Embedding.Backward(tokenIds, ScaledRows(embedding.OutputGradient, embedding.PositionTable, batchSize, tokenCount, channels),
                Span<float>.Empty, arena.GradientsOf(embedding.PositionTable), batchSize, tokenCount, channels, vocabulary, parallelism);
    }

    /// <summary>A layer's input or output gradient [B T, width] with example i's rows times <c>c_i</c> of <paramref name="parameter"/>'s group.</summary>
    private ReadOnlySpan<float> ScaledRows(float[] gradient, ParameterSlice parameter, int batchSize, int tokens, int width)
    {
        var exampleLength = tokens * width;
        Grow(ref scaled, batchSize * exampleLength);
        for (var example = 0; example < batchSize; example++)
        {
            var factor = (float)factors[example * Groups.Count + groupOf[parameter.Index]];
            System.Numerics.Tensors.TensorPrimitives.Multiply(
                gradient.AsSpan(example * exampleLength, exampleLength), factor, scaled.AsSpan(example * exampleLength, exampleLength));
        }

        return scaled.AsSpan(0, batchSize * exampleLength);
    }

    private void AccumulateExampleGradient(ParameterSlice parameter, int batchSize, IReadOnlyList<bool> trainable)
    {
        if (!trainable[parameter.Index]) return;
        var perExample = exampleGradients[parameter.Index];
        var destination = arena.GradientsOf(parameter);
        var length = parameter.Length;
        for (var index = 0; index < length; index++)
        {
            double sum = 0;
            for (var example = 0; example < batchSize; example++)
                sum += factors[example * Groups.Count + groupOf[parameter.Index]] * perExample[example * length + index];
            destination[index] += (float)sum;
        }
    }

    private double[] ExampleGradient(ParameterSlice parameter, int batchSize)
    {
        if (!exampleGradients.TryGetValue(parameter.Index, out var buffer) || buffer.Length < batchSize * parameter.Length)
            exampleGradients[parameter.Index] = buffer = new double[batchSize * parameter.Length];
        Array.Clear(buffer);
        return buffer;
    }

    private void AddExampleSquares(ParameterSlice parameter, double[] perExample, int batchSize)
    {
        var length = parameter.Length;
        for (var example = 0; example < batchSize; example++)
        {
            double sum = 0;
            foreach (var value in perExample.AsSpan(example * length, length)) sum += value * value;
            squaredNorms[parameter.Index * batchSize + example] += sum;
        }
    }

    private void AddToSlot(ParameterSlice parameter, double[] perExample)
    {
        for (var example = 0; example < BatchSize; example++) squaredNorms[parameter.Index * BatchSize + example] += perExample[example];
    }

    private static void Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
    }
}
