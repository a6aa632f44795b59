using System.Text.Json;
using System.Text.Json.Serialization;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using Pipelines.Components.Training;
using Pipelines.Model;

namespace Pipelines.Pretraining;

/// <content>Saving and loading as a model kind.</content>
public sealed partial class CausalLanguageModelTransformer
{
    /// <summary>The kind under which the transformer is saved.</summary>
    public const string KindName = "CausalLanguageModel";

    /// <summary>The version of the description and entries <see cref="Save"/> writes; loading reads this version only.</summary>
    public const int FormatVersion = 1;

    private const string WeightsEntry = "weights.safetensors";
    private const string HistoryEntry = "history.json";

    private static readonly JsonSerializerOptions HistoryJson = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <inheritdoc/>
    /// <remarks>
    /// <c>model.json</c> holds the format version, the shape, the end-of-text id, the columns, the thread count and the
    /// run's summary; the entry <c>weights.safetensors</c> one F32 tensor per parameter under its PyTorch name; the entry
    /// <c>history.json</c> the training history.
    /// </remarks>
    public void Save(IModelWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteJson(new Description(FormatVersion, Config.LayerCount, Config.HeadCount, Config.Channels, Config.ContextLength, Config.VocabularySize,
            EndOfTextTokenId, TokensColumnName, LossColumnName, PerplexityColumnName, ThreadCount, Training));
        using (var stream = writer.WriteStream(WeightsEntry))
        {
            scorer.CreateModel().Parameters.SaveSafeTensors(stream, new Dictionary<string, string> { ["format"] = "pt", ["kind"] = KindName });
        }

        using (var stream = writer.WriteStream(HistoryEntry))
        {
            JsonSerializer.Serialize(stream, TrainingHistory, HistoryJson);
        }
    }

    /// <summary>Loads a transformer saved by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The description is of another version, or the weights do not fit the shape.</exception>
    internal static ITransformer Load(IModelReader reader)
    {
        var description = reader.ReadJson<Description>();
        if (description.FormatVersion != FormatVersion)
            throw new InvalidDataException($"The causal language model is of format version {description.FormatVersion}; this library reads version {FormatVersion}.");
        var config = new TransformerConfig(description.LayerCount, description.HeadCount, description.Channels, description.ContextLength, description.VocabularySize);
        var model = new GptModel(config, new Parallelism(description.ThreadCount));
        using (var stream = reader.OpenStream(WeightsEntry))
        {
            model.Parameters.LoadSafeTensors(stream);
        }

        List<StepMetrics> history;
        using (var stream = reader.OpenStream(HistoryEntry))
        {
            history = JsonSerializer.Deserialize<List<StepMetrics>>(stream, HistoryJson)
                ?? throw new InvalidDataException("The training history of the causal language model is null.");
        }

        var columns = new LanguageModelColumns(description.TokensColumnName, description.LossColumnName, description.PerplexityColumnName);
        return new CausalLanguageModelTransformer(config, model.Parameters.Values.ToArray(), description.EndOfTextTokenId, columns, description.ThreadCount, history, description.Training);
    }

    private sealed record Description(int FormatVersion, int LayerCount, int HeadCount, int Channels, int ContextLength, int VocabularySize,
        int EndOfTextTokenId, string TokensColumnName, string LossColumnName, string PerplexityColumnName, int ThreadCount, PretrainingSummary Training);
}
