using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.Runtime;
using Pipelines.Components.Backends;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using Pipelines.Components.Tensors;
using Pipelines.Components.Text;
using Pipelines.Components.Training;
using Pipelines.MachineLearning;

namespace Pipelines.Pretraining;

/// <content>Saving into an ML.NET model file and loading back as this type.</content>
public sealed partial class CausalLanguageModelTransformer
{
    private const string LoaderSignature = "PipelinesCausalLM";
    private const string WeightsEntry = "weights.safetensors";
    private const string HistoryEntry = "history.json";
    private const string TokenizerEntry = "tokenizer.json";
    private static readonly ModelVersion ModelVersion = CreateVersion("PLCAUSLM", 0x00010001, LoaderSignature);

    internal static readonly JsonSerializerOptions EntryJson = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private protected override ModelVersion Version => ModelVersion;

    /// <remarks>
    /// The description holds the shape, the end-of-text id, the columns, the thread count and the run's summary; the
    /// entry <c>weights.safetensors</c> one F32 tensor per parameter under its PyTorch name; <c>history.json</c> the
    /// training history; <c>tokenizer.json</c> the tokenizer, when the model has one.
    /// </remarks>
    private protected override void SaveModel(IModelWriter writer) => Save(writer);

    /// <summary>Writes the description and entries (<see cref="SaveModel"/>).</summary>
    internal void Save(IModelWriter writer)
    {
        writer.WriteJson(Describe());
        using (var stream = writer.WriteStream(WeightsEntry))
        {
            scorer.Model.SaveSafeTensors(stream, new Dictionary<string, string> { ["format"] = "pt", ["kind"] = LoaderSignature });
        }

        SaveCommonEntries(writer);
    }

    /// <summary>The description of the language model, as saved.</summary>
    internal LanguageModelDescription Describe() => new(Config.LayerCount, Config.HeadCount, Config.Channels, Config.ContextLength, Config.VocabularySize,
        EndOfTextTokenId, TokensColumnName, LossColumnName, PerplexityColumnName, ThreadCount, Training);

    /// <summary>Writes the history and, when there is one, the tokenizer.</summary>
    internal void SaveCommonEntries(IModelWriter writer)
    {
        using (var stream = writer.WriteStream(HistoryEntry))
        {
            JsonSerializer.Serialize(stream, TrainingHistory, EntryJson);
        }

        if (Tokenizer is null) return;
        using (var stream = writer.WriteStream(TokenizerEntry))
        {
            Tokenizer.Save(stream);
        }
    }

    /// <summary>Called by <c>MLContext.Model.Load</c> (registered by <see cref="MachineLearningModelLoaderAttribute"/>).</summary>
    private static CausalLanguageModelTransformer Create(IHostEnvironment environment, object loadContext) =>
        Load(ModelParts.Open(environment, loadContext, ModelVersion));

    /// <summary>Loads a transformer from its part of a model file.</summary>
    /// <exception cref="InvalidDataException">The weights do not fit the shape or are not all finite (the tensor is named).</exception>
    internal static CausalLanguageModelTransformer Load(IModelReader reader)
    {
        var description = reader.ReadJson<LanguageModelDescription>();
        var model = description.CreateModel();
        using (var stream = reader.OpenStream(WeightsEntry))
        {
            model.Parameters.LoadSafeTensors(stream);
        }

        RequireFinite(model.Parameters);
        return FromParts(reader, description, model);
    }

    /// <summary>The transformer of <paramref name="description"/> and <paramref name="model"/> (loaded onto the managed engine), with the history and tokenizer entries of <paramref name="reader"/>.</summary>
    internal static CausalLanguageModelTransformer FromParts(IModelReader reader, LanguageModelDescription description, GptModel model)
    {
        List<StepMetrics> history;
        using (var stream = reader.OpenStream(HistoryEntry))
        {
            history = JsonSerializer.Deserialize<List<StepMetrics>>(stream, EntryJson)
                ?? throw new InvalidDataException("The training history of the causal language model is null.");
        }

        BytePairEncoding? tokenizer = null;
        if (reader.ContainsStream(TokenizerEntry))
        {
            using var stream = reader.OpenStream(TokenizerEntry);
            tokenizer = BytePairEncoding.Load(stream);
        }

        var columns = new LanguageModelColumns(description.TokensColumnName, description.LossColumnName, description.PerplexityColumnName);
        var backendModel = new ManagedBackend(description.ThreadCount).Adopt(model);
        return new CausalLanguageModelTransformer(backendModel, description.EndOfTextTokenId, columns, description.ThreadCount, history, description.Training, tokenizer);
    }

    /// <summary>Refuses weights that are NaN or infinite: such a file was damaged or written by a diverged run.</summary>
    /// <exception cref="InvalidDataException">Naming the tensor, the index and the value.</exception>
    internal static void RequireFinite(ParameterArena arena)
    {
        foreach (var parameter in arena.Parameters)
        {
            var values = arena.ValuesOf(parameter);
            for (var index = 0; index < values.Length; index++)
            {
                if (!float.IsFinite(values[index]))
                    throw new InvalidDataException($"Tensor '{parameter.Name}' holds {values[index]} at index {index}: the model's weights must all be finite.");
            }
        }
    }
}

/// <summary>What a saved language model's description holds.</summary>
internal sealed record LanguageModelDescription(int LayerCount, int HeadCount, int Channels, int ContextLength, int VocabularySize,
    int EndOfTextTokenId, string TokensColumnName, string LossColumnName, string PerplexityColumnName, int ThreadCount, PretrainingSummary Training)
{
    /// <summary>The model's shape.</summary>
    public TransformerConfig ToConfig() => new(LayerCount, HeadCount, Channels, ContextLength, VocabularySize);

    /// <summary>A managed model of this shape with all weights zero (to load into).</summary>
    public GptModel CreateModel() => new(ToConfig(), new Parallelism(ThreadCount));
}
