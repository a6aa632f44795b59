using MathNet.Numerics.LinearAlgebra;
using Pipelines.Components.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Diagnostics;

/// <summary>
/// <see cref="LayerDiagnostics"/> on the TorchSharp backend: per-layer attention entropy, gradient norms and
/// representation similarity of a <see cref="TorchGptModel"/> or <see cref="TorchEncoderClassifier"/>, on its device.
/// </summary>
/// <remarks>
/// The measurements of the diagnose-first recipe (arXiv 2511.00797), the same records and formulas as the managed
/// <see cref="LayerDiagnostics"/>, so <see cref="InflectionLayerFinder"/> runs on either:
/// <code>
/// H(l)    = mean over heads and valid queries of -Σ_j A log A             (AttentionEntropy's row weights, reduced on the device)
/// Gh(l)   = mean over the examples b of ||dL/dh_b(l)||₂                    h(l) the block's output [T, C] per example
/// Gw(l)   = ||dL/dθ(l)||₂ over the block's trainable parameters
/// dCKA(l) = 1 - CKA(Hpre(l) P, Hpost(l) P), P = top-k PCA basis of Hpre(l)  (LinearCka, Kornblith et al. arXiv 1905.00414)
/// </code>
/// Each batch runs the training forward pass (fused attention) with a <see cref="TorchForwardCapture"/> that keeps the
/// block outputs and recomputes the attention probabilities explicitly, then one backward pass; H, Gh and Gw of every
/// layer are reduced on the device in float64 and read back as one [L, 4] tensor per batch. CKA needs every valid row of
/// every layer on the host (MathNet's linear algebra, as the managed backend): the block outputs are read once per
/// diagnosis, not per training step. Measuring overwrites the model's gradients (zeroed before each batch); frozen
/// parameters (<c>requires_grad = false</c>) count nothing towards Gw.
/// </remarks>
public static class TorchLayerDiagnostics
{
    /// <summary>H, normalised H, Gh and Gw for every block of <paramref name="model"/>.</summary>
    /// <exception cref="ArgumentException">No batches were given, or a batch does not fit the model (the batch and value are named).</exception>
    /// <exception cref="InvalidOperationException">No parameter of the model requires a gradient.</exception>
    public static IReadOnlyList<LayerMetrics> Measure(TorchGptModel model, IEnumerable<DiagnosticBatch> batches) => MeasureModel(model, batches);

    /// <inheritdoc cref="Measure(TorchGptModel, IEnumerable{DiagnosticBatch})"/>
    public static IReadOnlyList<LayerMetrics> Measure(TorchEncoderClassifier model, IEnumerable<DiagnosticBatch> batches) => MeasureModel(model, batches);

    /// <summary>
    /// <see cref="Measure(TorchGptModel, IEnumerable{DiagnosticBatch})"/> on <paramref name="source"/>, with CKA and dCKA of every block's output
    /// between <paramref name="source"/> (before) and <paramref name="tuned"/> (after) on the same batches.
    /// </summary>
    /// <param name="source">The model before fine-tuning; its gradients are overwritten.</param>
    /// <param name="tuned">The model after fine-tuning, of the same shape (forward passes only).</param>
    /// <param name="batches">Target-task batches.</param>
    /// <param name="principalComponents">k, the PCA basis size of dCKA; clipped to min(valid rows, C).</param>
    /// <exception cref="ArgumentException">No batches, a batch that does not fit, or the models' shapes differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="principalComponents"/> is below 1.</exception>
    public static IReadOnlyList<LayerMetrics> Measure(TorchGptModel source, TorchGptModel tuned, IEnumerable<DiagnosticBatch> batches, int principalComponents) =>
        MeasureModels(source, tuned, batches, principalComponents);

    /// <inheritdoc cref="Measure(TorchGptModel, TorchGptModel, IEnumerable{DiagnosticBatch}, int)"/>
    public static IReadOnlyList<LayerMetrics> Measure(TorchEncoderClassifier source, TorchEncoderClassifier tuned, IEnumerable<DiagnosticBatch> batches, int principalComponents) =>
        MeasureModels(source, tuned, batches, principalComponents);

    /// <summary>Every block's output at the non-padding positions of all <paramref name="batches"/>, one [n, C] matrix per layer (on the host).</summary>
    /// <exception cref="ArgumentException">No batches were given, or a batch does not fit the model.</exception>
    public static IReadOnlyList<Matrix<double>> HiddenStates(TorchGptModel model, IEnumerable<DiagnosticBatch> batches) => HiddenStatesOf(model, batches);

    /// <inheritdoc cref="HiddenStates(TorchGptModel, IEnumerable{DiagnosticBatch})"/>
    public static IReadOnlyList<Matrix<double>> HiddenStates(TorchEncoderClassifier model, IEnumerable<DiagnosticBatch> batches) => HiddenStatesOf(model, batches);

    private static IReadOnlyList<LayerMetrics> MeasureModel(nn.Module model, IEnumerable<DiagnosticBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(model);
        var batchList = LayerDiagnostics.RequireBatches(batches);
        TorchModelRunner.Check(model, batchList, nameof(batches));
        return MeasureChecked(model, batchList);
    }

    private static IReadOnlyList<LayerMetrics> MeasureModels(nn.Module source, nn.Module tuned, IEnumerable<DiagnosticBatch> batches, int principalComponents)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(tuned);
        ArgumentOutOfRangeException.ThrowIfLessThan(principalComponents, 1);
        var (sourceConfig, tunedConfig) = (TorchModelRunner.Config(source), TorchModelRunner.Config(tuned));
        if (sourceConfig != tunedConfig)
            throw new ArgumentException($"The models' shapes differ: {sourceConfig} and {tunedConfig}.", nameof(tuned));
        var batchList = LayerDiagnostics.RequireBatches(batches);
        TorchModelRunner.Check(source, batchList, nameof(batches));
        var metrics = MeasureChecked(source, batchList);
        return LayerDiagnostics.WithSimilarity(metrics, HiddenStatesChecked(source, batchList), HiddenStatesChecked(tuned, batchList), principalComponents);
    }

    private static IReadOnlyList<Matrix<double>> HiddenStatesOf(nn.Module model, IEnumerable<DiagnosticBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(model);
        var batchList = LayerDiagnostics.RequireBatches(batches);
        TorchModelRunner.Check(model, batchList, nameof(batches));
        return HiddenStatesChecked(model, batchList);
    }

    private static LayerMetrics[] MeasureChecked(nn.Module model, List<DiagnosticBatch> batches)
    {
        var config = TorchModelRunner.Config(model);
        var device = TorchModelRunner.Device(model);
        var causal = TorchModelRunner.IsCausal(model);
        var layers = config.LayerCount;
        var blockParameters = Enumerable.Range(0, layers)
            .Select(layer => model.named_parameters().Where(pair => pair.name.StartsWith($"blocks.{layer}.", StringComparison.Ordinal)).Select(pair => pair.parameter).ToArray())
            .ToArray();
        var totals = new double[layers * 4]; // per layer: H sum, normalised H sum, Σ_b ||dL/dh_b||, Gw
        long entropyRows = 0, normalizedRows = 0, examples = 0;
        foreach (var batch in batches)
        {
            using var scope = NewDisposeScope();
            model.zero_grad();
            var capture = new TorchForwardCapture(attentionProbabilities: true);
            var loss = TorchModelRunner.Loss(model, batch, capture);
            if (!loss.requires_grad) throw new InvalidOperationException("No parameter of the model requires a gradient: the backward signal Gh and Gw cannot be measured.");
            foreach (var output in capture.BlockOutputs) output.retain_grad();
            loss.backward();
            var (raw, rawRows) = TorchAttentionEntropy.Weights(batch, causal, config.HeadCount, normalize: false, device);
            var (normalized, normalizedRowCount) = TorchAttentionEntropy.Weights(batch, causal, config.HeadCount, normalize: true, device);
            var perLayer = Enumerable.Range(0, layers).Select(layer => stack(new[]
            {
                TorchAttentionEntropy.WeightedSum(capture.AttentionProbabilities[layer], raw),
                TorchAttentionEntropy.WeightedSum(capture.AttentionProbabilities[layer], normalized),
                SumOfExampleNorms(capture.BlockOutputs[layer].grad ?? zeros_like(capture.BlockOutputs[layer]), batch.BatchSize),
                GradientNorm(blockParameters[layer], device),
            })).ToArray();
            var values = stack(perLayer).cpu().data<double>().ToArray(); // [L, 4]: the batch's one read from the device
            for (var index = 0; index < totals.Length; index++) totals[index] += values[index];
            entropyRows += rawRows;
            normalizedRows += normalizedRowCount;
            examples += batch.BatchSize;
        }

        return Enumerable.Range(0, layers).Select(layer => new LayerMetrics(
            layer,
            entropyRows == 0 ? 0 : totals[layer * 4] / entropyRows,
            normalizedRows == 0 ? 0 : totals[layer * 4 + 1] / normalizedRows,
            totals[layer * 4 + 2] / examples,
            totals[layer * 4 + 3] / batches.Count)).ToArray();
    }

    /// <summary>Σ_b ||gradient_b||₂ over the examples of <paramref name="gradient"/> [B, T, C], a float64 scalar.</summary>
    private static Tensor SumOfExampleNorms(Tensor gradient, int batchSize) =>
        gradient.to_type(ScalarType.Float64).reshape(batchSize, -1).square().sum(1).sqrt().sum();

    /// <summary>||g||₂ over the gradients of <paramref name="parameters"/> that have one, a float64 scalar.</summary>
    private static Tensor GradientNorm(IEnumerable<Tensor> parameters, Device device)
    {
        var squares = zeros([], dtype: ScalarType.Float64, device: device);
        foreach (var parameter in parameters)
        {
            if (parameter.grad is { } gradient) squares += gradient.to_type(ScalarType.Float64).square().sum();
        }

        return squares.sqrt();
    }

    private static Matrix<double>[] HiddenStatesChecked(nn.Module model, List<DiagnosticBatch> batches)
    {
        var config = TorchModelRunner.Config(model);
        var device = TorchModelRunner.Device(model);
        var (layers, channels) = (config.LayerCount, config.Channels);
        var validRows = batches.Select(batch => Enumerable.Range(0, batch.BatchSize * batch.TokenCount).Where(batch.IsValidRow).Select(row => (long)row).ToArray()).ToArray();
        var states = Enumerable.Range(0, layers).Select(_ => Matrix<double>.Build.Dense(validRows.Sum(rows => rows.Length), channels)).ToArray();
        var offset = 0;
        using var noGradient = no_grad();
        for (var index = 0; index < batches.Count; index++)
        {
            using var scope = NewDisposeScope();
            var (batch, rows) = (batches[index], validRows[index]);
            var capture = new TorchForwardCapture(attentionProbabilities: false);
            TorchModelRunner.Loss(model, batch, capture);
            var gathered = stack(capture.BlockOutputs).reshape(layers, batch.BatchSize * batch.TokenCount, channels)
                .index_select(1, tensor(rows, dtype: ScalarType.Int64, device: device));          // [L, n, C]
            var values = TorchParameters.ToSingleArray(gathered);                                  // the batch's one read
            for (var layer = 0; layer < layers; layer++)
            {
                for (var row = 0; row < rows.Length; row++)
                {
                    for (var channel = 0; channel < channels; channel++)
                        states[layer][offset + row, channel] = values[((long)layer * rows.Length + row) * channels + channel];
                }
            }

            offset += rows.Length;
        }

        return states;
    }
}
