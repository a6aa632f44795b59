using Microsoft.ML;
using Pipelines.Components.Lora;
using Pipelines.Components.Models;
using Pipelines.FineTuning;
using Pipelines.Lora;

namespace Pipelines;

/// <summary>Layer diagnosis and LoRA fine-tuning (<c>mlContext.Lora()</c>).</summary>
public sealed class LoraCatalog : PipelineCatalog
{
    internal LoraCatalog(MLContext context) : base(context) { }
}

/// <summary>The estimators of the <see cref="LoraCatalog"/>: <c>Diagnose</c>, <c>Inject</c>, <c>Selective</c>.</summary>
/// <remarks>
/// Diagnose-first selective LoRA (arXiv 2511.00797) over LoRA (Hu et al., arXiv 2106.09685): <c>h = W0 x + (alpha/r) B A x</c>
/// at chosen layers of a frozen source model. LoRA everywhere and full fine-tuning are the text classifier's
/// <see cref="TextClassificationOptions.Adaptation"/> (<see cref="FineTuningAdaptation.LoraEverywhere"/>, <see cref="FineTuningAdaptation.Full"/>).
/// </remarks>
public static class LoraCatalogExtensions
{
    /// <summary>The LoRA catalog of <paramref name="context"/>.</summary>
    public static LoraCatalog Lora(this MLContext context) => new(context);

    /// <summary>Measures the source model at <paramref name="sourceWeightsPath"/> on target rows and chooses the inflection layers.</summary>
    /// <param name="catalog">The LoRA catalog.</param>
    /// <param name="sourceWeightsPath">The source model's safetensors weights (engine names).</param>
    /// <param name="model">The source's shape (the vocabulary comes from the weights).</param>
    /// <param name="labelColumnName">The target label, a key column.</param>
    /// <param name="tokensColumnName">The token keys, made by the source's tokenizer.</param>
    /// <remarks>H(l), Gh(l), Gw(l) per layer, then d(l) = log Gh(l+1) - log Gh(l): see <see cref="LayerDiagnosisEstimator"/>.</remarks>
    /// <exception cref="ArgumentException">No source weights.</exception>
    public static LayerDiagnosisEstimator Diagnose(this LoraCatalog catalog, string sourceWeightsPath, TransformerConfig model, string labelColumnName = "Label", string tokensColumnName = "Tokens")
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        return catalog.Diagnose(new LayerDiagnosisOptions
        {
            SourceWeightsPath = sourceWeightsPath, Model = model, MaximumSequenceLength = model.ContextLength, LabelColumnName = labelColumnName, TokensColumnName = tokensColumnName,
        });
    }

    /// <summary>Diagnoses as <paramref name="options"/> say.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Options that do not fit together, naming the option.</exception>
    public static LayerDiagnosisEstimator Diagnose(this LoraCatalog catalog, LayerDiagnosisOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new LayerDiagnosisEstimator(catalog.Context, options);
    }

    /// <summary>Fine-tunes LoRA adapters where <paramref name="plan"/> says, on the frozen model at <paramref name="sourceWeightsPath"/>.</summary>
    /// <param name="catalog">The LoRA catalog.</param>
    /// <param name="plan">Layer → rank, alpha, targets (from <c>Diagnose</c>, a file, or by hand).</param>
    /// <param name="sourceWeightsPath">The source model's safetensors weights.</param>
    /// <param name="model">The source's shape.</param>
    /// <remarks>The text classifier with <c>Adaptation = FineTuningAdaptation.Lora(plan)</c> (arXiv 2106.09685).</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="plan"/> is null.</exception>
    public static TextClassificationEstimator Inject(this LoraCatalog catalog, LoraInjectionPlan plan, string sourceWeightsPath, TransformerConfig model)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        return catalog.Inject(plan, new TextClassificationOptions { PretrainedWeightsPath = sourceWeightsPath, Model = model, MaximumSequenceLength = model.ContextLength });
    }

    /// <summary>The text classifier of <paramref name="options"/> with its adaptation set to LoRA as <paramref name="plan"/> says.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Options that do not fit together, naming the option.</exception>
    public static TextClassificationEstimator Inject(this LoraCatalog catalog, LoraInjectionPlan plan, TextClassificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new TextClassificationEstimator(catalog.Context, options with { Adaptation = FineTuningAdaptation.Lora(plan) });
    }

    /// <summary>Diagnoses the source on the target data, then fine-tunes LoRA at the chosen layers.</summary>
    /// <param name="catalog">The LoRA catalog.</param>
    /// <param name="sourceWeightsPath">The source model's safetensors weights.</param>
    /// <param name="model">The source's shape.</param>
    /// <param name="layerCount">k: how many inflection layers get adapters.</param>
    /// <remarks>arXiv 2511.00797; see <see cref="SelectiveLoraEstimator"/>.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layerCount"/> is below 1.</exception>
    public static SelectiveLoraEstimator Selective(this LoraCatalog catalog, string sourceWeightsPath, TransformerConfig model, int layerCount = 2)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        return catalog.Selective(new SelectiveLoraOptions
        {
            Diagnosis = new LayerDiagnosisOptions { SourceWeightsPath = sourceWeightsPath, Inflection = new() { LayerCount = layerCount } },
            FineTuning = new TextClassificationOptions { Model = model, MaximumSequenceLength = model.ContextLength },
        });
    }

    /// <summary>Diagnoses and fine-tunes as <paramref name="options"/> say.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Options that do not fit together, naming the option.</exception>
    public static SelectiveLoraEstimator Selective(this LoraCatalog catalog, SelectiveLoraOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new SelectiveLoraEstimator(catalog.Context, options);
    }
}
