using System.Text.Json;
using System.Text.Json.Serialization;
using Pipelines.Components.Models;

namespace Pipelines.Components.Lora;

/// <summary>Where one layer gets adapters: its rank r, scale numerator alpha and target projections.</summary>
/// <param name="Layer">Block index, 0 nearest the embeddings.</param>
/// <param name="Rank">r, between 1 and the projection's smaller dimension.</param>
/// <param name="Alpha">alpha; the update is scaled by alpha/r (or alpha/√r with rsLoRA).</param>
/// <param name="Targets">The projections to adapt.</param>
public sealed record LoraLayerPlan(
    [property: JsonPropertyName("layer")] int Layer,
    [property: JsonPropertyName("rank")] int Rank,
    [property: JsonPropertyName("alpha")] double Alpha,
    [property: JsonPropertyName("targets")] IReadOnlyList<LoraProjection> Targets);

/// <summary>
/// An explicit, serialisable choice of adapters (layer → rank, alpha, target projections) that a user can read, edit and
/// replay; <see cref="Pipelines.Components.Diagnostics.InflectionLayerFinder"/> writes one, <c>LoraAdapter</c> builds from one.
/// </summary>
/// <remarks>
/// JSON form (module names as in the engine's parameters):
/// <code>{"layers":[{"layer":2,"rank":8,"alpha":16,"targets":["qkv","proj"]}],"dropout":0.05,"use_rslora":false}</code>
/// LoRA: Hu et al., arXiv 2106.09685; rsLoRA: Kalajdzievski, arXiv 2312.03732; layer choice: arXiv 2511.00797.
/// </remarks>
/// <param name="Layers">One entry per adapted layer.</param>
/// <param name="Dropout">Dropout probability on the adapter's input while training, in [0, 1).</param>
/// <param name="UseRsLora">Scale by alpha/√r instead of alpha/r.</param>
public sealed record LoraInjectionPlan(
    [property: JsonPropertyName("layers")] IReadOnlyList<LoraLayerPlan> Layers,
    [property: JsonPropertyName("dropout")] double Dropout = 0,
    [property: JsonPropertyName("use_rslora")] bool UseRsLora = false)
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>The same adapters on every listed layer.</summary>
    public static LoraInjectionPlan Uniform(IEnumerable<int> layers, int rank, double alpha, IEnumerable<LoraProjection> targets, double dropout = 0, bool useRsLora = false)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(targets);
        var targetList = targets.ToArray();
        return new LoraInjectionPlan(layers.Select(layer => new LoraLayerPlan(layer, rank, alpha, targetList)).ToArray(), dropout, useRsLora);
    }

    /// <summary>Checks the plan against a model of shape <paramref name="config"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A layer the model lacks, a rank below 1 or above the projection's smaller dimension, alpha not positive, or dropout outside [0, 1); the exception names the value.</exception>
    /// <exception cref="ArgumentException">A layer listed twice, or a layer with no or repeated targets.</exception>
    public void Validate(TransformerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (Layers is null) throw new ArgumentException("The plan has no layer list.", nameof(Layers));
        if (!(Dropout >= 0 && Dropout < 1))
            throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "Dropout must be in [0, 1).");
        var seen = new HashSet<int>();
        foreach (var entry in Layers)
        {
            if ((uint)entry.Layer >= (uint)config.LayerCount)
                throw new ArgumentOutOfRangeException(nameof(LoraLayerPlan.Layer), entry.Layer, $"The model has layers 0 to {config.LayerCount - 1}.");
            if (!seen.Add(entry.Layer))
                throw new ArgumentException($"Layer {entry.Layer} is listed twice.", nameof(Layers));
            if (entry.Targets is null || entry.Targets.Count == 0)
                throw new ArgumentException($"Layer {entry.Layer} has no target projections.", nameof(LoraLayerPlan.Targets));
            if (entry.Targets.Distinct().Count() != entry.Targets.Count)
                throw new ArgumentException($"Layer {entry.Layer} lists a target projection twice.", nameof(LoraLayerPlan.Targets));
            if (!(entry.Alpha > 0) || double.IsInfinity(entry.Alpha))
                throw new ArgumentOutOfRangeException(nameof(LoraLayerPlan.Alpha), entry.Alpha, $"Layer {entry.Layer}: alpha must be positive and finite.");
            foreach (var target in entry.Targets)
            {
                if (!Enum.IsDefined(target))
                    throw new ArgumentOutOfRangeException(nameof(LoraLayerPlan.Targets), target, $"Layer {entry.Layer}: not a block projection.");
                var (outChannels, inChannels) = target.Shape(config.Channels);
                var width = Math.Min(outChannels, inChannels);
                if (entry.Rank < 1 || entry.Rank > width)
                    throw new ArgumentOutOfRangeException(nameof(LoraLayerPlan.Rank), entry.Rank, $"Layer {entry.Layer}, {target.ModuleName()}: the rank must be between 1 and {width}.");
            }
        }
    }

    /// <summary>The plan as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads a plan written by <see cref="ToJson"/> (or by hand).</summary>
    /// <exception cref="JsonException">The text is not a plan, or names a projection the blocks lack (the message names it).</exception>
    public static LoraInjectionPlan FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return JsonSerializer.Deserialize<LoraInjectionPlan>(json, JsonOptions) ?? throw new JsonException("The JSON holds no plan.");
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/>.</summary>
    public void Save(string path) => File.WriteAllText(path, ToJson());

    /// <summary>Reads a plan from <paramref name="path"/>.</summary>
    /// <exception cref="JsonException">The file is not a plan.</exception>
    public static LoraInjectionPlan Load(string path) => FromJson(File.ReadAllText(path));
}
