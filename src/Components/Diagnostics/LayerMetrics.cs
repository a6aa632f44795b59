namespace Pipelines.Components.Diagnostics;

/// <summary>The diagnostics of one transformer block (arXiv 2511.00797); see <see cref="LayerDiagnostics"/> for the formulas.</summary>
/// <param name="Layer">Block index, 0 nearest the embeddings.</param>
/// <param name="AttentionEntropy">H(l): mean attention-row entropy in nats.</param>
/// <param name="NormalizedAttentionEntropy">H(l) with each row divided by log of its valid keys (1 = uniform).</param>
/// <param name="ActivationGradientNorm">Gh(l): mean over examples of ||dL/dh(l)||₂, h(l) the block's output.</param>
/// <param name="ParameterGradientNorm">Gw(l): ||dL/dθ(l)||₂ over the block's trainable parameters, mean over batches.</param>
/// <param name="Cka">Linear CKA of the block's output between two models, or null when only one model was measured.</param>
/// <param name="DeltaCka">1 - CKA in the top-k PCA basis of the first model's output, or null.</param>
public sealed record LayerMetrics(
    int Layer,
    double AttentionEntropy,
    double NormalizedAttentionEntropy,
    double ActivationGradientNorm,
    double ParameterGradientNorm,
    double? Cka = null,
    double? DeltaCka = null);
