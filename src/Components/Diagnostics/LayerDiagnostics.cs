using MathNet.Numerics.LinearAlgebra;
using Pipelines.Components.Models;

namespace Pipelines.Components.Diagnostics;

/// <summary>Per-layer attention entropy, gradient norms and representation similarity of a model on target-task batches.</summary>
/// <remarks>
/// The measurements of the diagnose-first recipe (arXiv 2511.00797), on the source model and batches of the target task:
/// <code>
/// H(l)    = mean over heads and valid queries of -Σ_j A log A             (see AttentionEntropy)
/// Gh(l)   = mean over the examples b of ||dL/dh_b(l)||₂                    h(l) = the block's output [T, C] per example
/// Gw(l)   = ||dL/dθ(l)||₂ over the block's trainable parameters
/// dCKA(l) = 1 - CKA(Hpre(l) P, Hpost(l) P), P = top-k PCA basis of Hpre(l)  (see LinearCka)
/// </code>
/// L is the batch's mean loss, as the model's <c>Backward()</c> defines it, so Gh scales with 1/B; the scale cancels in
/// the ratios <see cref="InflectionLayerFinder"/> uses. Several batches are pooled: entropies over all rows, Gh over all
/// examples, Gw averaged over batches. CKA uses the block outputs at non-padding positions of every batch.
/// Measuring runs forward and backward passes: it overwrites the model's gradients (zeroed before each batch) and
/// frozen parameters count nothing towards Gw.
/// </remarks>
public static class LayerDiagnostics
{
    /// <summary>H, normalised H, Gh and Gw for every block of <paramref name="model"/>.</summary>
    /// <exception cref="ArgumentException">No batches were given.</exception>
    /// <exception cref="NotSupportedException">The model is neither a <see cref="GptModel"/> nor an <see cref="EncoderClassifier"/>.</exception>
    public static IReadOnlyList<LayerMetrics> Measure(ITransformerModel model, IEnumerable<DiagnosticBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(model);
        var batchList = RequireBatches(batches);
        var config = model.Config;
        var layers = config.LayerCount;
        var entropy = new double[layers];
        var normalizedEntropy = new double[layers];
        var entropyRows = new long[layers];
        var normalizedRows = new long[layers];
        var activationNorms = new double[layers];
        var parameterNorms = new double[layers];
        long examples = 0;
        var causal = ModelRunner.IsCausal(model);
        foreach (var batch in batchList)
        {
            model.Parameters.ZeroGradients();
            ModelRunner.Forward(model, batch);
            ModelRunner.Backward(model);
            var mask = batch.KeyMask ?? ReadOnlySpan<byte>.Empty;
            for (var layer = 0; layer < layers; layer++)
            {
                var probabilities = model.Stack.Blocks[layer].AttentionProbabilities;
                var (sum, count) = AttentionEntropy.Sum(probabilities, mask, causal, batch.BatchSize, config.HeadCount, batch.TokenCount, normalize: false);
                entropy[layer] += sum;
                entropyRows[layer] += count;
                (sum, count) = AttentionEntropy.Sum(probabilities, mask, causal, batch.BatchSize, config.HeadCount, batch.TokenCount, normalize: true);
                normalizedEntropy[layer] += sum;
                normalizedRows[layer] += count;
                activationNorms[layer] += SumOfExampleNorms(model.Stack.BlockOutputGradient(layer), batch.BatchSize, batch.TokenCount * config.Channels);
                parameterNorms[layer] += BlockGradientNorm(model, layer);
            }

            examples += batch.BatchSize;
        }

        return Enumerable.Range(0, layers).Select(layer => new LayerMetrics(
            layer,
            entropyRows[layer] == 0 ? 0 : entropy[layer] / entropyRows[layer],
            normalizedRows[layer] == 0 ? 0 : normalizedEntropy[layer] / normalizedRows[layer],
            activationNorms[layer] / examples,
            parameterNorms[layer] / batchList.Count)).ToArray();
    }

    /// <summary>
    /// <see cref="Measure(ITransformerModel, IEnumerable{DiagnosticBatch})"/> on <paramref name="source"/>, with CKA and dCKA of every block's output between
    /// <paramref name="source"/> (before) and <paramref name="tuned"/> (after) on the same batches.
    /// </summary>
    /// <param name="source">The model before fine-tuning; its gradients are overwritten.</param>
    /// <param name="tuned">The model after fine-tuning, of the same shape (forward passes only).</param>
    /// <param name="batches">Target-task batches.</param>
    /// <param name="principalComponents">k, the PCA basis size of dCKA; clipped to min(valid rows, C).</param>
    /// <exception cref="ArgumentException">No batches, or the models' shapes differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="principalComponents"/> is below 1.</exception>
    public static IReadOnlyList<LayerMetrics> Measure(ITransformerModel source, ITransformerModel tuned, IEnumerable<DiagnosticBatch> batches, int principalComponents)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(tuned);
        ArgumentOutOfRangeException.ThrowIfLessThan(principalComponents, 1);
        if (source.Config != tuned.Config)
            throw new ArgumentException($"The models' shapes differ: {source.Config} and {tuned.Config}.", nameof(tuned));
        var batchList = RequireBatches(batches);
        var metrics = Measure(source, batchList);
        return WithSimilarity(metrics, HiddenStates(source, batchList), HiddenStates(tuned, batchList), principalComponents);
    }

    /// <summary>
    /// <paramref name="metrics"/> with CKA and dCKA of each layer's block outputs <paramref name="before"/> and <paramref name="after"/>
    /// ([n, C] per layer, the same rows); k is clipped to min(n, C). Shared with the TorchSharp backend, whose hidden states
    /// come to the host once per diagnosis.
    /// </summary>
    internal static IReadOnlyList<LayerMetrics> WithSimilarity(IReadOnlyList<LayerMetrics> metrics, IReadOnlyList<Matrix<double>> before, IReadOnlyList<Matrix<double>> after, int principalComponents) =>
        metrics.Select(metric =>
        {
            var (x, y) = (before[metric.Layer], after[metric.Layer]);
            var components = Math.Min(principalComponents, Math.Min(x.RowCount, x.ColumnCount));
            return metric with { Cka = LinearCka.Compute(x, y), DeltaCka = LinearCka.Delta(x, y, components) };
        }).ToArray();

    /// <summary>Every block's output at the non-padding positions of all <paramref name="batches"/>, one [n, C] matrix per layer.</summary>
    /// <exception cref="ArgumentException">No batches were given.</exception>
    public static IReadOnlyList<Matrix<double>> HiddenStates(ITransformerModel model, IEnumerable<DiagnosticBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(model);
        var batchList = RequireBatches(batches);
        var channels = model.Config.Channels;
        var validRows = batchList.Sum(batch => Enumerable.Range(0, batch.BatchSize * batch.TokenCount).Count(batch.IsValidRow));
        var states = Enumerable.Range(0, model.Config.LayerCount).Select(_ => Matrix<double>.Build.Dense(validRows, channels)).ToArray();
        var offset = 0;
        foreach (var batch in batchList)
        {
            ModelRunner.Forward(model, batch);
            for (var layer = 0; layer < states.Length; layer++)
            {
                var output = model.Stack.BlockOutput(layer);
                var target = offset;
                for (var row = 0; row < batch.BatchSize * batch.TokenCount; row++)
                {
                    if (!batch.IsValidRow(row)) continue;
                    for (var channel = 0; channel < channels; channel++) states[layer][target, channel] = output[row * channels + channel];
                    target++;
                }
            }

            offset += Enumerable.Range(0, batch.BatchSize * batch.TokenCount).Count(batch.IsValidRow);
        }

        return states;
    }

    /// <summary>Σ_b ||gradient_b||₂ over the <paramref name="examples"/> consecutive blocks of <paramref name="exampleLength"/> floats.</summary>
    internal static double SumOfExampleNorms(ReadOnlySpan<float> gradient, int examples, int exampleLength)
    {
        double total = 0;
        for (var example = 0; example < examples; example++) total += Norm(gradient.Slice(example * exampleLength, exampleLength));
        return total;
    }

    private static double BlockGradientNorm(ITransformerModel model, int layer)
    {
        double squares = 0;
        foreach (var slice in model.Stack.Blocks[layer].Parameters.All)
        {
            foreach (var value in model.Parameters.GradientsOf(slice)) squares += (double)value * value;
        }

        return Math.Sqrt(squares);
    }

    private static double Norm(ReadOnlySpan<float> values)
    {
        double squares = 0;
        foreach (var value in values) squares += (double)value * value;
        return Math.Sqrt(squares);
    }

    internal static List<DiagnosticBatch> RequireBatches(IEnumerable<DiagnosticBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        var list = batches.ToList();
        if (list.Count == 0) throw new ArgumentException("At least one batch is needed.", nameof(batches));
        return list;
    }
}
