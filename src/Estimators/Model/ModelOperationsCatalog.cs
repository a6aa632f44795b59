using Pipelines.Model;
using Pipelines.Transforms;

namespace Pipelines;

/// <summary>Saving, loading and running models (<c>context.Model</c>), as ML.NET's <c>ModelOperationsCatalog</c>.</summary>
public sealed class ModelOperationsCatalog : PipelineCatalog
{
    internal ModelOperationsCatalog(PipelineContext context) : base(context, "Model") { }

    /// <summary>
    /// Saves <paramref name="model"/> (a transformer or a chain; nested chains are flattened) and the schema it
    /// expects to a zip file, atomically (<see cref="AtomicFile"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">A transformer does not implement <see cref="ICanSaveModel"/> or cannot be saved.</exception>
    public void Save(ITransformer model, DataViewSchema? inputSchema, string filePath)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(filePath);
        AtomicFile.Write(filePath, stream => ModelFile.Write(stream, model, inputSchema));
    }

    /// <summary>Saves <paramref name="model"/> to <paramref name="stream"/> (not atomically); see <see cref="Save(ITransformer, DataViewSchema?, string)"/>.</summary>
    public void Save(ITransformer model, DataViewSchema? inputSchema, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(stream);
        ModelFile.Write(stream, model, inputSchema);
    }

    /// <summary>Loads a model saved by <see cref="Save(ITransformer, DataViewSchema?, string)"/>.</summary>
    /// <param name="filePath">The model file.</param>
    /// <param name="inputSchema">The schema saved with the model, or null if none was.</param>
    /// <param name="customMappings">The mappings of the custom-mapping transformers in the model, by contract name.</param>
    /// <returns>The saved transformer, or a <see cref="TransformerChain{ITransformer}"/> when a chain was saved.</returns>
    /// <exception cref="InvalidDataException">The file is not a model file (corrupt zip, no <c>model.json</c>), of another format version, incomplete, or corrupt; the message says which.</exception>
    /// <exception cref="InvalidOperationException">A custom mapping of the model was not provided.</exception>
    public ITransformer Load(string filePath, out DataViewSchema? inputSchema, params IEnumerable<CustomMappingFactory> customMappings)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(filePath);
        using var stream = File.OpenRead(filePath);
        return ModelFile.Read(stream, $"'{filePath}'", Context, ToTable(customMappings), out inputSchema);
    }

    /// <summary>Loads a model from <paramref name="stream"/>; see <see cref="Load(string, out DataViewSchema?, IEnumerable{CustomMappingFactory})"/>.</summary>
    public ITransformer Load(Stream stream, out DataViewSchema? inputSchema, params IEnumerable<CustomMappingFactory> customMappings)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ModelFile.Read(stream, "The model stream", Context, ToTable(customMappings), out inputSchema);
    }

    /// <summary>
    /// Creates an engine that runs <paramref name="transformer"/> on one example at a time. An engine is not
    /// thread-safe: create one per thread (it throws if two threads call it at once).
    /// </summary>
    /// <param name="transformer">A row-to-row transformer (see <see cref="ITransformer.IsRowToRowMapper"/>).</param>
    /// <param name="ignoreMissingColumns">
    /// Whether members of <typeparamref name="TDst"/> without an output column are left unset. ML.NET's default is
    /// true; here it is false, so that a misspelt member fails instead of silently staying empty.
    /// </param>
    /// <exception cref="InvalidOperationException">The transformer is not row-to-row.</exception>
    /// <exception cref="SchemaMismatchException"><typeparamref name="TSrc"/> lacks a column the transformer needs, or <typeparamref name="TDst"/> one the output lacks.</exception>
    public PredictionEngine<TSrc, TDst> CreatePredictionEngine<TSrc, TDst>(ITransformer transformer, bool ignoreMissingColumns = false)
        where TSrc : class
        where TDst : class, new()
    {
        ArgumentNullException.ThrowIfNull(transformer);
        return new PredictionEngine<TSrc, TDst>(transformer, ignoreMissingColumns);
    }

    private static Dictionary<string, CustomMappingFactory> ToTable(IEnumerable<CustomMappingFactory> customMappings)
    {
        ArgumentNullException.ThrowIfNull(customMappings);
        var table = new Dictionary<string, CustomMappingFactory>(StringComparer.Ordinal);
        foreach (var mapping in customMappings)
        {
            ArgumentNullException.ThrowIfNull(mapping, nameof(customMappings));
            if (!table.TryAdd(mapping.ContractName, mapping))
                throw new ArgumentException($"Two custom mappings share the contract name '{mapping.ContractName}'.", nameof(customMappings));
        }

        return table;
    }
}
