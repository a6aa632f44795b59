namespace Pipelines;

/// <summary>Learns a transformer from data: the trainable step of a pipeline.</summary>
/// <typeparam name="TTransformer">The transformer <see cref="Fit"/> returns (kept by <see cref="EstimatorChain{TLastTransformer}"/>).</typeparam>
/// <remarks>Mirrors ML.NET's <c>IEstimator&lt;TTransformer&gt;</c>. An estimator is immutable; fitting twice on the same data with the same seed gives equal transformers.</remarks>
public interface IEstimator<out TTransformer>
    where TTransformer : ITransformer
{
    /// <summary>Fits on <paramref name="input"/> and returns the transformer.</summary>
    /// <exception cref="SchemaMismatchException">An input column is missing or of the wrong type.</exception>
    TTransformer Fit(IDataView input);

    /// <summary>The shape of the data the fitted transformer will produce from data of shape <paramref name="inputSchema"/>.</summary>
    /// <remarks>Fails fast, before any data is read, when an input column is missing or of the wrong type.</remarks>
    /// <exception cref="SchemaMismatchException">An input column is missing or of the wrong type.</exception>
    SchemaShape GetOutputSchema(SchemaShape inputSchema);
}
