using System.Text.Json;
using System.Text.Json.Serialization;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Training;
using Pipelines.Model;
using Pipelines.Pretraining;

namespace Pipelines.Sparsity;

/// <content>Saving and loading as a model kind; the masks travel beside the weights.</content>
public sealed partial class SparsePretrainingTransformer
{
    /// <summary>The kind under which the transformer is saved.</summary>
    public const string KindName = "SparsePretraining";

    /// <summary>The version of the description and entries <see cref="Save"/> writes; loading reads this version only.</summary>
    public const int FormatVersion = 1;

    private const string WeightsEntry = "weights.safetensors";
    private const string HistoryEntry = "history.json";
    private const string SparsityEntry = "sparsity.json";

    private static readonly JsonSerializerOptions EntryJson = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <inheritdoc/>
    /// <remarks>
    /// <c>model.json</c> holds the format version, the shape, the end-of-text id, the columns, the thread count, the
    /// run's summary and its sparsity figures; the entry <c>weights.safetensors</c> one F32 tensor per parameter under
    /// its PyTorch name and one <c>mask.&lt;name&gt;</c> tensor per prunable parameter; <c>history.json</c> the training
    /// history; <c>sparsity.json</c> N(t) of every step and the pruning events.
    /// </remarks>
    public void Save(IModelWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var model = LanguageModel;
        var config = model.Config;
        writer.WriteJson(new Description(FormatVersion, config.LayerCount, config.HeadCount, config.Channels, config.ContextLength, config.VocabularySize,
            model.EndOfTextTokenId, model.TokensColumnName, model.LossColumnName, model.PerplexityColumnName, model.ThreadCount, model.Training, Sparsity));
        var arena = model.CreateModel().Parameters;
        var tensors = arena.Parameters.Select(parameter => SafeTensor.Create(parameter.Name, parameter.Shape.Select(dimension => (long)dimension).ToArray(), arena.ValuesOf(parameter)))
            .Concat(mask.PrunableSlices.Select(slice => SafeTensor.Create(PruningMask.TensorPrefix + slice.Name, slice.Shape.Select(dimension => (long)dimension).ToArray(), mask.MaskOf(slice))));
        using (var stream = writer.WriteStream(WeightsEntry))
        {
            SafeTensors.Write(stream, tensors, new Dictionary<string, string> { ["format"] = "pt", ["kind"] = KindName });
        }

        using (var stream = writer.WriteStream(HistoryEntry))
        {
            JsonSerializer.Serialize(stream, model.TrainingHistory, EntryJson);
        }

        using (var stream = writer.WriteStream(SparsityEntry))
        {
            JsonSerializer.Serialize(stream, new SparsityHistory(NonZeroCounts, Events), EntryJson);
        }
    }

    /// <summary>Loads a transformer saved by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">
    /// The description is of another version, the tensors do not fit the shape, a mask holds a value other than 0 or 1,
    /// or a pruned weight is not zero.
    /// </exception>
    internal static ITransformer Load(IModelReader reader)
    {
        var description = reader.ReadJson<Description>();
        if (description.FormatVersion != FormatVersion)
            throw new InvalidDataException($"The sparse language model is of format version {description.FormatVersion}; this library reads version {FormatVersion}.");
        var config = new TransformerConfig(description.LayerCount, description.HeadCount, description.Channels, description.ContextLength, description.VocabularySize);
        var arena = new GptModel(config, new Parallelism(description.ThreadCount)).Parameters;
        SafeTensorFile file;
        using (var stream = reader.OpenStream(WeightsEntry))
        {
            file = SafeTensors.Read(stream);
        }

        var weights = file.Tensors.Where(tensor => !tensor.Name.StartsWith(PruningMask.TensorPrefix, StringComparison.Ordinal)).ToArray();
        var masks = file.Tensors.Where(tensor => tensor.Name.StartsWith(PruningMask.TensorPrefix, StringComparison.Ordinal)).ToArray();
        // The weights alone are written back out so the arena's own loader checks every name, type and shape.
        using (var weightStream = new MemoryStream())
        {
            SafeTensors.Write(weightStream, weights);
            weightStream.Position = 0;
            arena.LoadSafeTensors(weightStream);
        }

        PruningMask mask;
        try
        {
            mask = PruningMask.FromTensors(masks.ToDictionary(tensor => tensor.Name, MaskValues, StringComparer.Ordinal), arena);
        }
        catch (ArgumentException exception)
        {
            throw new InvalidDataException($"The masks of the sparse language model do not fit it: {exception.Message}", exception);
        }

        RequirePrunedWeightsZero(arena, mask);
        List<StepMetrics> history;
        using (var stream = reader.OpenStream(HistoryEntry))
        {
            history = JsonSerializer.Deserialize<List<StepMetrics>>(stream, EntryJson) ?? throw new InvalidDataException("The training history of the sparse language model is null.");
        }

        SparsityHistory sparsity;
        using (var stream = reader.OpenStream(SparsityEntry))
        {
            sparsity = JsonSerializer.Deserialize<SparsityHistory>(stream, EntryJson) ?? throw new InvalidDataException("The sparsity history of the sparse language model is null.");
        }

        if (mask.NonZeroCount != description.Sparsity.FinalNonZeroCount)
            throw new InvalidDataException($"The masks keep {mask.NonZeroCount} parameters; the description says {description.Sparsity.FinalNonZeroCount}.");
        var columns = new LanguageModelColumns(description.TokensColumnName, description.LossColumnName, description.PerplexityColumnName);
        var languageModel = new CausalLanguageModelTransformer(config, arena.Values.ToArray(), description.EndOfTextTokenId, columns, description.ThreadCount, history, description.Training);
        return new SparsePretrainingTransformer(languageModel, mask, description.Sparsity, sparsity.NonZeroCounts ?? [], sparsity.Events ?? []);
    }

    private static float[] MaskValues(SafeTensor tensor) =>
        tensor.DataType == SafeTensorDataType.Float32 ? tensor.ToSingleArray() : throw new InvalidDataException($"Mask tensor '{tensor.Name}' is {tensor.DataType.FormatName()}, expected F32.");

    /// <summary>A saved sparse model whose pruned weights are not zero was edited or corrupted: refuse it rather than score with it.</summary>
    private static void RequirePrunedWeightsZero(Components.Tensors.ParameterArena arena, PruningMask mask)
    {
        foreach (var slice in mask.PrunableSlices)
        {
            var kept = mask.MaskOf(slice);
            var values = arena.ValuesOf(slice);
            for (var index = 0; index < kept.Length; index++)
            {
                if (kept[index] == 0f && values[index] != 0f)
                    throw new InvalidDataException($"Weight {index} of '{slice.Name}' is pruned by its mask but holds {values[index]}.");
            }
        }
    }

    private sealed record Description(int FormatVersion, int LayerCount, int HeadCount, int Channels, int ContextLength, int VocabularySize,
        int EndOfTextTokenId, string TokensColumnName, string LossColumnName, string PerplexityColumnName, int ThreadCount, PretrainingSummary Training,
        SparsityRecord Sparsity);

    private sealed record SparsityHistory(IReadOnlyList<long>? NonZeroCounts, IReadOnlyList<PruningEvent>? Events);
}
