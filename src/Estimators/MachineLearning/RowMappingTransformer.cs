using Microsoft.ML;
using Microsoft.ML.Data;

namespace Pipelines.MachineLearning;

/// <summary>
/// What every Pipelines transformer shares: it adds columns row by row (lazily, in <see cref="Transform"/> and in
/// ML.NET's prediction engines alike) and saves itself into <c>MLContext.Model.Save</c>'s model file, from which
/// <c>MLContext.Model.Load</c> brings it back as its own type.
/// </summary>
public abstract class RowMappingTransformer : ITransformer
{
    private protected RowMappingTransformer()
    {
    }

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    /// <summary>The model-file header of this kind of transformer.</summary>
    private protected abstract ModelVersion Version { get; }

    /// <inheritdoc/>
    /// <exception cref="SchemaMismatchException">An input column is missing or of the wrong type.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return RowMapping.CreateOutputSchema(inputSchema, CreateMapper(inputSchema).OutputColumns);
    }

    /// <inheritdoc/>
    /// <exception cref="SchemaMismatchException">An input column is missing or of the wrong type.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new RowMappedDataView(input, CreateMapper(input.Schema));
    }

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return new RowMapping(inputSchema, CreateMapper(inputSchema));
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) => ModelParts.Save(ctx, Version, SaveModel);

    /// <summary>The mapper adding this transformer's columns to rows of <paramref name="inputSchema"/>.</summary>
    private protected abstract IRowMapper CreateMapper(DataViewSchema inputSchema);

    /// <summary>Writes the transformer's description and binary entries.</summary>
    private protected abstract void SaveModel(IModelWriter writer);

    /// <summary>The header of a kind of transformer saved by this assembly.</summary>
    private protected static ModelVersion CreateVersion(string modelSignature, uint version, string loaderSignature) =>
        new(modelSignature, version, version, version, loaderSignature, typeof(RowMappingTransformer).Assembly.FullName!);
}
