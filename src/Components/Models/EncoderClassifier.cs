using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Models;

/// <summary>
/// A bidirectional transformer encoder with a classification head: token + position embeddings, pre-LN
/// blocks attending to every valid (non-padding) token, a final layer norm, mean pooling over valid tokens
/// and a linear head trained with cross-entropy.
/// </summary>
/// <remarks>
/// The blocks are the GPT's (<see cref="TransformerBlock"/>) without the causal mask, as in BERT-style
/// encoders (Devlin et al. 2018, arXiv 1810.04805) but pre-LN and mean-pooled. Head parameters:
/// <c>head.weight</c> [K, C], <c>head.bias</c> [K]. Example: <c>samples/SpamFineTune</c>.
/// </remarks>
public sealed partial class EncoderClassifier : ITransformerModel
{
    private readonly TransformerBody body;
    private readonly ParameterSlice headWeight;        // head.weight [K, C]
    private readonly ParameterSlice headBias;          // head.bias [K]
    private float[] normalized = [];          // [N, C]
    private float[] normalizedGradient = [];  // [N, C]
    private float[] pooled = [];              // [B, C]
    private float[] pooledGradient = [];      // [B, C]
    private float[] logits = [];              // [B, K]
    private float[] probabilities = [];       // [B, K]
    private float[] logitsGradient = [];      // [B, K]
    private float[] losses = [];              // [B]
    private float[] lossGradients = [];       // [B]
    private byte[] keyMask = [];              // [N]
    private int[] labels = [];                // [B]
    private int batchSize;
    private int tokenCount;
    private bool hasLabels;

    /// <summary>Creates a classifier with all parameters zero.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classCount"/> is below 2.</exception>
    public EncoderClassifier(TransformerConfig config, int classCount, Parallelism parallelism)
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 2);
        ClassCount = classCount;
        Parallelism = parallelism;
        var builder = new ParameterArenaBuilder();
        body = new TransformerBody(config, builder);
        headWeight = builder.Add("head.weight", ParameterRole.LinearWeight, classCount, config.Channels);
        headBias = builder.Add("head.bias", ParameterRole.LinearBias, classCount);
        Parameters = builder.Build();
        body.Bind(Parameters);
    }

    /// <summary>Creates a classifier initialised GPT-2 style from <paramref name="seed"/>.</summary>
    public static EncoderClassifier Create(TransformerConfig config, int classCount, ulong seed, Parallelism parallelism)
    {
        var model = new EncoderClassifier(config, classCount, parallelism);
        ModelInitializer.InitializeGpt2Style(model.Parameters, config.LayerCount, new SeededRandom(seed));
        return model;
    }

    /// <inheritdoc />
    public TransformerConfig Config { get; }

    /// <summary>Number of classes K.</summary>
    public int ClassCount { get; }

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

    /// <summary>Class logits of the last forward pass, [B, K].</summary>
    public ReadOnlySpan<float> Logits => logits.AsSpan(0, batchSize * ClassCount);

    /// <summary>Class probabilities (softmax of <see cref="Logits"/>) of the last forward pass, [B, K].</summary>
    public ReadOnlySpan<float> Probabilities => probabilities.AsSpan(0, batchSize * ClassCount);

    /// <summary>Per-example losses of the last forward pass with labels, [B].</summary>
    public ReadOnlySpan<float> Losses => losses.AsSpan(0, batchSize);

    /// <summary>Mean-pooled sequence representations of the last forward pass, [B, C].</summary>
    public ReadOnlySpan<float> Pooled => pooled.AsSpan(0, batchSize * Config.Channels);

    /// <inheritdoc />
    public void SetTrainable(Func<ParameterSlice, bool> predicate) => body.SetTrainable(predicate);

    /// <inheritdoc />
    public bool IsTrainable(ParameterSlice parameter) => body.IsTrainable(parameter);

    /// <summary>
    /// Runs the classifier on <paramref name="inputTokens"/> [B, T] with <paramref name="inputKeyMask"/> [B, T]
    /// (1 = token, 0 = padding; empty = no padding). With <paramref name="inputLabels"/> [B] returns the mean
    /// cross-entropy and prepares <see cref="Backward()"/>; without, returns NaN (logits only).
    /// </summary>
    public float Forward(ReadOnlySpan<int> inputTokens, ReadOnlySpan<byte> inputKeyMask, ReadOnlySpan<int> inputLabels, int newBatchSize, int newTokenCount)
    {
        ModelInputValidation.CheckBatch(Config, inputTokens, newBatchSize, newTokenCount);
        var rows = newBatchSize * newTokenCount;
        if (!inputKeyMask.IsEmpty) KernelGuard.RequireLength(inputKeyMask.Length, rows, nameof(inputKeyMask));
        hasLabels = !inputLabels.IsEmpty;
        if (hasLabels) ModelInputValidation.CheckTargets(inputLabels, newBatchSize, ClassCount, nameof(inputLabels));
        EnsureCapacity(newBatchSize, newTokenCount);
        var mask = keyMask.AsSpan(0, rows);
        if (inputKeyMask.IsEmpty) mask.Fill(1);
        else inputKeyMask.CopyTo(mask);
        var channels = Config.Channels;

        body.Forward(inputTokens, mask, causal: false, normalized.AsSpan(0, rows * channels), newBatchSize, newTokenCount, Parallelism);
        MeanPooling.Forward(normalized.AsSpan(0, rows * channels), mask, pooled.AsSpan(0, newBatchSize * channels), newBatchSize, newTokenCount, channels, Parallelism);
        Linear.Forward(pooled.AsSpan(0, newBatchSize * channels), Parameters.ValuesOf(headWeight), Parameters.ValuesOf(headBias), logits.AsSpan(0, newBatchSize * ClassCount), newBatchSize, channels, ClassCount, Parallelism);
        var labelSpan = labels.AsSpan(0, newBatchSize);
        if (hasLabels) inputLabels.CopyTo(labelSpan);
        else labelSpan.Fill(-1); // probabilities still computed; losses are 0
        SoftmaxCrossEntropy.Forward(logits.AsSpan(0, newBatchSize * ClassCount), labelSpan, probabilities.AsSpan(0, newBatchSize * ClassCount), losses.AsSpan(0, newBatchSize), newBatchSize, ClassCount, Parallelism);
        return hasLabels ? GptModel.MeanLoss(losses.AsSpan(0, newBatchSize), labelSpan) : float.NaN;
    }

    /// <summary>Back-propagates the mean loss of the last forward pass.</summary>
    public void Backward()
    {
        if (!hasLabels) throw new InvalidOperationException("Backward needs a forward pass with labels first.");
        var validCount = 0;
        for (var row = 0; row < batchSize; row++) validCount += labels[row] >= 0 ? 1 : 0;
        lossGradients.AsSpan(0, batchSize).Fill(validCount == 0 ? 0f : 1f / validCount);
        Backward(lossGradients.AsSpan(0, batchSize));
    }

    /// <summary>Back-propagates per-example loss weights dL/dloss_b, [B] (per-example gradients use one-hot weights).</summary>
    public void Backward(ReadOnlySpan<float> exampleLossGradients)
    {
        if (!hasLabels) throw new InvalidOperationException("Backward needs a forward pass with labels first.");
        KernelGuard.RequireLength(exampleLossGradients.Length, batchSize, nameof(exampleLossGradients));
        var rows = batchSize * tokenCount;
        var channels = Config.Channels;
        var logitsGradientSpan = logitsGradient.AsSpan(0, batchSize * ClassCount);
        logitsGradientSpan.Clear();
        SoftmaxCrossEntropy.Backward(probabilities.AsSpan(0, batchSize * ClassCount), labels.AsSpan(0, batchSize), exampleLossGradients, logitsGradientSpan, batchSize, ClassCount, Parallelism);
        var pooledGradientSpan = pooledGradient.AsSpan(0, batchSize * channels);
        pooledGradientSpan.Clear();
        Linear.Backward(logitsGradientSpan, pooled.AsSpan(0, batchSize * channels), Parameters.ValuesOf(headWeight), pooledGradientSpan, body.Gradients(headWeight), body.Gradients(headBias), batchSize, channels, ClassCount, Parallelism);
        var normalizedGradientSpan = normalizedGradient.AsSpan(0, rows * channels);
        normalizedGradientSpan.Clear();
        MeanPooling.Backward(pooledGradientSpan, keyMask.AsSpan(0, rows), normalizedGradientSpan, batchSize, tokenCount, channels, Parallelism);
        body.Backward(normalizedGradientSpan, batchSize, tokenCount, Parallelism);
    }

    private void EnsureCapacity(int newBatchSize, int newTokenCount)
    {
        batchSize = newBatchSize;
        tokenCount = newTokenCount;
        var rows = newBatchSize * newTokenCount;
        var channels = Config.Channels;
        ActivationBuffer.Grow(ref normalized, rows * channels);
        ActivationBuffer.Grow(ref normalizedGradient, rows * channels);
        ActivationBuffer.Grow(ref pooled, newBatchSize * channels);
        ActivationBuffer.Grow(ref pooledGradient, newBatchSize * channels);
        ActivationBuffer.Grow(ref logits, newBatchSize * ClassCount);
        ActivationBuffer.Grow(ref probabilities, newBatchSize * ClassCount);
        ActivationBuffer.Grow(ref logitsGradient, newBatchSize * ClassCount);
        ActivationBuffer.Grow(ref losses, newBatchSize);
        ActivationBuffer.Grow(ref lossGradients, newBatchSize);
        if (keyMask.Length < rows) keyMask = new byte[rows];
        if (labels.Length < newBatchSize) labels = new int[newBatchSize];
        body.EnsureCapacity(newBatchSize, newTokenCount);
    }
}
