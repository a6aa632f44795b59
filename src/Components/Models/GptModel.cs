using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Models;

/// <summary>
/// A decoder-only GPT: token + learned position embeddings, pre-LN causal blocks, a final layer norm and a
/// head tied to the token embedding (logits = LN(x) · wteᵀ), trained with next-token cross-entropy.
/// </summary>
/// <remarks>
/// The architecture of GPT-2 (Radford et al. 2019) as in nanoGPT and llm.c, and exactly that of
/// <c>shared/bench/torch_gpt_ref.py</c>; parameter names match that script's PyTorch module names so
/// weights move between the two through safetensors. Not thread-safe: one model per training loop.
/// Example: <c>samples/QuickStart</c>.
/// </remarks>
public sealed partial class GptModel : ICausalLanguageModel
{
    private readonly TransformerBody body;
    private float[] normalized = [];          // [N, C] final layer norm output
    private float[] normalizedGradient = [];  // [N, C]
    private float[] logits = [];              // [N, V]
    private float[] probabilities = [];       // [N, V]
    private float[] logitsGradient = [];      // [N, V]
    private float[] losses = [];              // [N]
    private float[] lossGradients = [];       // [N]
    private int[] targets = [];               // [N] of the last forward pass
    private int batchSize;
    private int tokenCount;
    private bool hasTargets;

    /// <summary>Creates a model with all parameters zero (load or initialise them next).</summary>
    public GptModel(TransformerConfig config, Parallelism parallelism)
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        Parallelism = parallelism;
        var builder = new ParameterArenaBuilder();
        body = new TransformerBody(config, builder); // the head is tied to wte: no parameters of its own
        Parameters = builder.Build();
        body.Bind(Parameters);
    }

    /// <summary>Creates a model initialised GPT-2 style from <paramref name="seed"/>.</summary>
    public static GptModel Create(TransformerConfig config, ulong seed, Parallelism parallelism)
    {
        var model = new GptModel(config, parallelism);
        ModelInitializer.InitializeGpt2Style(model.Parameters, config.LayerCount, new SeededRandom(seed));
        return model;
    }

    /// <inheritdoc />
    public TransformerConfig Config { get; }

    /// <inheritdoc />
    public ParameterArena Parameters { get; }

    /// <summary>Threads the kernels may use.</summary>
    public Parallelism Parallelism { get; set; }

    /// <inheritdoc />
    public TransformerStack Stack => body.Stack;

    /// <inheritdoc />
    public int BatchSize => batchSize;

    /// <inheritdoc />
    public int TokenCount => tokenCount;

    /// <inheritdoc />
    public ReadOnlySpan<float> Logits => logits.AsSpan(0, batchSize * tokenCount * Config.VocabularySize);

    /// <summary>Per-position losses of the last forward pass with targets, [N] (0 where the target was -1).</summary>
    public ReadOnlySpan<float> Losses => losses.AsSpan(0, batchSize * tokenCount);

    /// <inheritdoc />
    public void SetTrainable(Func<ParameterSlice, bool> predicate) => body.SetTrainable(predicate);

    /// <inheritdoc />
    public bool IsTrainable(ParameterSlice parameter) => body.IsTrainable(parameter);

    /// <inheritdoc />
    public float Forward(ReadOnlySpan<int> inputTokens, ReadOnlySpan<int> targetTokens, int newBatchSize, int newTokenCount)
    {
        ModelInputValidation.CheckBatch(Config, inputTokens, newBatchSize, newTokenCount);
        var rows = newBatchSize * newTokenCount;
        hasTargets = !targetTokens.IsEmpty;
        if (hasTargets) ModelInputValidation.CheckTargets(targetTokens, rows, Config.VocabularySize, nameof(targetTokens));
        EnsureCapacity(newBatchSize, newTokenCount);
        var (channels, vocabulary) = (Config.Channels, Config.VocabularySize);

        body.Forward(inputTokens, ReadOnlySpan<byte>.Empty, causal: true, normalized.AsSpan(0, rows * channels), newBatchSize, newTokenCount, Parallelism);
        Linear.Forward(normalized.AsSpan(0, rows * channels), Parameters.ValuesOf(body.TokenEmbedding), ReadOnlySpan<float>.Empty, logits.AsSpan(0, rows * vocabulary), rows, channels, vocabulary, Parallelism);
        if (!hasTargets) return float.NaN;

        targetTokens.CopyTo(targets);
        SoftmaxCrossEntropy.Forward(logits.AsSpan(0, rows * vocabulary), targetTokens, probabilities.AsSpan(0, rows * vocabulary), losses.AsSpan(0, rows), rows, vocabulary, Parallelism);
        return MeanLoss(losses.AsSpan(0, rows), targetTokens);
    }

    /// <inheritdoc />
    public void Backward()
    {
        if (!hasTargets) throw new InvalidOperationException("Backward needs a forward pass with targets first.");
        var rows = batchSize * tokenCount;
        var validCount = 0;
        for (var row = 0; row < rows; row++) validCount += targets[row] >= 0 ? 1 : 0;
        lossGradients.AsSpan(0, rows).Fill(validCount == 0 ? 0f : 1f / validCount);
        Backward(lossGradients.AsSpan(0, rows));
    }

    /// <summary>Back-propagates per-position loss weights dL/dloss_i, [N]; gradients accumulate into <see cref="Parameters"/>.</summary>
    public void Backward(ReadOnlySpan<float> positionLossGradients)
    {
        if (!hasTargets) throw new InvalidOperationException("Backward needs a forward pass with targets first.");
        var rows = batchSize * tokenCount;
        KernelGuard.RequireLength(positionLossGradients.Length, rows, nameof(positionLossGradients));
        var (channels, vocabulary) = (Config.Channels, Config.VocabularySize);
        var logitsGradientSpan = logitsGradient.AsSpan(0, rows * vocabulary);
        SoftmaxCrossEntropy.Backward(probabilities.AsSpan(0, rows * vocabulary), targets.AsSpan(0, rows), positionLossGradients, logitsGradientSpan, rows, vocabulary, Parallelism, overwrite: true);
        var normalizedGradientSpan = normalizedGradient.AsSpan(0, rows * channels);
        Linear.Backward(logitsGradientSpan, normalized.AsSpan(0, rows * channels), Parameters.ValuesOf(body.TokenEmbedding), normalizedGradientSpan, body.Gradients(body.TokenEmbedding), Span<float>.Empty, rows, channels, vocabulary, Parallelism, overwriteInputGradient: true);
        body.Backward(normalizedGradientSpan, batchSize, tokenCount, Parallelism);
    }

    private void EnsureCapacity(int newBatchSize, int newTokenCount)
    {
        batchSize = newBatchSize;
        tokenCount = newTokenCount;
        var rows = newBatchSize * newTokenCount;
        var (channels, vocabulary) = (Config.Channels, Config.VocabularySize);
        ActivationBuffer.Grow(ref normalized, rows * channels);
        ActivationBuffer.Grow(ref normalizedGradient, rows * channels);
        ActivationBuffer.Grow(ref logits, rows * vocabulary);
        ActivationBuffer.Grow(ref probabilities, rows * vocabulary);
        ActivationBuffer.Grow(ref logitsGradient, rows * vocabulary);
        ActivationBuffer.Grow(ref losses, rows);
        ActivationBuffer.Grow(ref lossGradients, rows);
        if (targets.Length < rows) targets = new int[rows];
        body.EnsureCapacity(newBatchSize, newTokenCount);
    }

    internal static float MeanLoss(ReadOnlySpan<float> rowLosses, ReadOnlySpan<int> rowTargets)
    {
        double sum = 0;
        var count = 0;
        for (var row = 0; row < rowLosses.Length; row++)
        {
            if (rowTargets[row] < 0) continue;
            sum += rowLosses[row];
            count++;
        }

        return count == 0 ? 0f : (float)(sum / count);
    }
}
