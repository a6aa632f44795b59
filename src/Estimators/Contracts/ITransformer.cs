namespace Pipelines;

/// <summary>Transforms data: the fitted step of a pipeline.</summary>
/// <remarks>
/// Mirrors ML.NET's <c>ITransformer</c>. A transformer is immutable and thread-safe. <see cref="Transform"/> is lazy:
/// it returns a view whose cursors compute the new columns row by row. Transformers that can be saved also
/// implement <see cref="Model.ICanSaveModel"/>.
/// </remarks>
public interface ITransformer
{
    /// <summary>
    /// Whether each output row depends on the matching input row only (no look at other rows), so that
    /// <see cref="ModelOperationsCatalog.CreatePredictionEngine{TSrc, TDst}"/> can run it one example at a time.
    /// </summary>
    bool IsRowToRowMapper { get; }

    /// <summary>The schema of the data <see cref="Transform"/> produces from data of schema <paramref name="inputSchema"/>.</summary>
    /// <exception cref="SchemaMismatchException">An input column is missing or of the wrong type.</exception>
    DataViewSchema GetOutputSchema(DataViewSchema inputSchema);

    /// <summary>Transforms <paramref name="input"/> lazily.</summary>
    /// <exception cref="SchemaMismatchException">An input column is missing or of the wrong type.</exception>
    IDataView Transform(IDataView input);
}
