using System.Text.Json;
using Microsoft.ML.Runtime;
using Pipelines.Components.Serialization;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Tensors;
using Pipelines.MachineLearning;
using Pipelines.Pretraining;

namespace Pipelines.Sparsity;

/// <content>Saving into an ML.NET model file, the masks beside the weights, and loading back as this type.</content>
public sealed partial class SparsePretrainingTransformer
{
    private const string LoaderSignature = "PipelinesSparsePretrain";
    private const string WeightsEntry = "weights.safetensors";
    private const string SparsityEntry = "sparsity.json";
    private static readonly ModelVersion ModelVersion = CreateVersion("PLSPARLM", 0x00010001, LoaderSignature);

    private protected override ModelVersion Version => ModelVersion;

    /// <remarks>
    /// The description holds the language model's (shape, end-of-text id, columns, thread count, run summary) and the
    /// sparsity figures; the entry <c>weights.safetensors</c> one F32 tensor per parameter under its PyTorch name and one
    /// <c>mask.&lt;name&gt;</c> tensor per prunable parameter; <c>history.json</c> the training history;
    /// <c>sparsity.json</c> N(t) of every step and the pruning events; <c>tokenizer.json</c> the tokenizer, if any.
    /// </remarks>
    private protected override void SaveModel(IModelWriter writer) => Save(writer);

    /// <summary>Writes the description and entries (<see cref="SaveModel"/>).</summary>
    internal void Save(IModelWriter writer)
    {
        writer.WriteJson(new Description(LanguageModel.Describe(), Sparsity));
        var arena = LanguageModel.CreateModel().Parameters; // the language model may live on another backend: export through a managed copy
        var tensors = arena.Parameters.Select(parameter => SafeTensor.Create(parameter.Name, parameter.Shape.Select(dimension => (long)dimension).ToArray(), arena.ValuesOf(parameter)))
            .Concat(mask.PrunableSlices.Select(slice => SafeTensor.Create(PruningMask.TensorPrefix + slice.Name, slice.Shape.Select(dimension => (long)dimension).ToArray(), mask.MaskOf(slice))));
        using (var stream = writer.WriteStream(WeightsEntry))
        {
            SafeTensors.Write(stream, tensors, new Dictionary<string, string> { ["format"] = "pt", ["kind"] = LoaderSignature });
        }

        LanguageModel.SaveCommonEntries(writer);
        using (var stream = writer.WriteStream(SparsityEntry))
        {
            JsonSerializer.Serialize(stream, new SparsityHistory(NonZeroCounts, Events), CausalLanguageModelTransformer.EntryJson);
        }
    }

    /// <summary>Called by <c>MLContext.Model.Load</c> (registered by <see cref="MachineLearningModelLoaderAttribute"/>).</summary>
    private static SparsePretrainingTransformer Create(IHostEnvironment environment, object loadContext) =>
        Load(ModelParts.Open(environment, loadContext, ModelVersion));

    /// <summary>Loads a transformer from its part of a model file.</summary>
    /// <exception cref="InvalidDataException">
    /// The tensors do not fit the shape, a weight is not finite, a mask holds a value other than 0 or 1, or a pruned
    /// weight is not zero (the tensor is named).
    /// </exception>
    internal static SparsePretrainingTransformer Load(IModelReader reader)
    {
        var description = reader.ReadJson<Description>();
        var model = description.LanguageModel.CreateModel();
        var arena = model.Parameters;
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

        CausalLanguageModelTransformer.RequireFinite(arena);
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
        if (mask.NonZeroCount != description.Sparsity.FinalNonZeroCount)
            throw new InvalidDataException($"The masks keep {mask.NonZeroCount} parameters; the description says {description.Sparsity.FinalNonZeroCount}.");
        SparsityHistory history;
        using (var stream = reader.OpenStream(SparsityEntry))
        {
            history = JsonSerializer.Deserialize<SparsityHistory>(stream, CausalLanguageModelTransformer.EntryJson)
                ?? throw new InvalidDataException("The sparsity history of the sparse language model is null.");
        }

        var languageModel = CausalLanguageModelTransformer.FromParts(reader, description.LanguageModel, model);
        return new SparsePretrainingTransformer(languageModel, mask, description.Sparsity, history.NonZeroCounts ?? [], history.Events ?? []);
    }

    private static float[] MaskValues(SafeTensor tensor) =>
        tensor.DataType == SafeTensorDataType.Float32 ? tensor.ToSingleArray() : throw new InvalidDataException($"Mask tensor '{tensor.Name}' is {tensor.DataType.FormatName()}, expected F32.");

    /// <summary>A saved sparse model whose pruned weights are not zero was edited or corrupted: refuse it rather than score with it.</summary>
    private static void RequirePrunedWeightsZero(ParameterArena arena, PruningMask mask)
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

    private sealed record Description(LanguageModelDescription LanguageModel, SparsityRecord Sparsity);

    private sealed record SparsityHistory(IReadOnlyList<long>? NonZeroCounts, IReadOnlyList<PruningEvent>? Events);
}
