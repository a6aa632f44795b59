using Microsoft.ML;
using Microsoft.ML.Runtime;
using Pipelines.Components.Diagnostics;
using Pipelines.Components.Lora;
using Pipelines.MachineLearning;

namespace Pipelines.Lora;

/// <summary>
/// What <see cref="LayerDiagnosisEstimator"/> found: per-layer metrics, the backward-signal slopes, the chosen layers and the
/// LoRA injection plan. Its data pass through unchanged; saved by <c>MLContext.Model.Save</c> as JSON and loaded back.
/// </summary>
/// <remarks>Metrics and the rule: see <see cref="LayerDiagnosisEstimator"/> (arXiv 2511.00797).</remarks>
[MachineLearningModelLoader(LoaderSignature)]
public sealed class LayerDiagnosisTransformer : RowMappingTransformer
{
    private const string LoaderSignature = "PipelinesLayerDiagnosis";
    private static readonly ModelVersion ModelVersion = CreateVersion("PLLAYDIA", 0x00010001, LoaderSignature);

    internal LayerDiagnosisTransformer(IReadOnlyList<LayerMetrics> metrics, InflectionResult inflection)
    {
        Metrics = metrics;
        Inflection = inflection;
    }

    /// <summary>H, normalised H, Gh, Gw (and CKA, dCKA with a comparison model) of every layer, ascending.</summary>
    public IReadOnlyList<LayerMetrics> Metrics { get; }

    /// <summary>The slopes d(l), the entropy median, the inflection layers and the adapted layers.</summary>
    public InflectionResult Inflection { get; }

    /// <summary>The injection plan for the chosen layers (<see cref="LoraInjectionPlan.ToJson"/> to read and edit it).</summary>
    public LoraInjectionPlan Plan => Inflection.Plan;

    private protected override ModelVersion Version => ModelVersion;

    private protected override IRowMapper CreateMapper(DataViewSchema inputSchema) => new PassThrough();

    private protected override void SaveModel(IModelWriter writer) =>
        writer.WriteJson(new Description(Metrics, Inflection.Slopes, Inflection.EntropyMedian, Inflection.InflectionLayers, Inflection.Layers, Plan.ToJson()));

    /// <summary>Called by <c>MLContext.Model.Load</c> (registered by <see cref="MachineLearningModelLoaderAttribute"/>).</summary>
    private static LayerDiagnosisTransformer Create(IHostEnvironment environment, object loadContext)
    {
        var description = ModelParts.Open(environment, loadContext, ModelVersion).ReadJson<Description>();
        var plan = LoraInjectionPlan.FromJson(description.Plan);
        return new LayerDiagnosisTransformer(description.Metrics,
            new InflectionResult(description.Slopes, description.EntropyMedian, description.InflectionLayers, description.Layers, plan));
    }

    private sealed record Description(IReadOnlyList<LayerMetrics> Metrics, IReadOnlyList<double> Slopes, double EntropyMedian,
        IReadOnlyList<int> InflectionLayers, IReadOnlyList<int> Layers, string Plan);

    private sealed class PassThrough : IRowMapper
    {
        public IReadOnlyList<DataViewSchema.Column> InputColumns => [];

        public IReadOnlyList<DataViewSchema.DetachedColumn> OutputColumns => [];

        public Delegate?[] CreateGetters(DataViewRow input, Func<int, bool> isOutputActive) => [];
    }
}
