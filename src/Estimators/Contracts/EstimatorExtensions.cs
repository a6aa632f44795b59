namespace Pipelines;

/// <summary>Chaining of estimators and transformers, as ML.NET's <c>Append</c> extensions.</summary>
public static class EstimatorExtensions
{
    /// <summary>A chain of <paramref name="start"/> followed by <paramref name="estimator"/>.</summary>
    /// <example><c>context.Transforms.CopyColumns("B", "A").Append(context.Transforms.CopyColumns("C", "B"))</c></example>
    public static EstimatorChain<TTransformer> Append<TTransformer>(this IEstimator<ITransformer> start, IEstimator<TTransformer> estimator)
        where TTransformer : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(estimator);
        return new EstimatorChain<ITransformer>().Append(start).Append(estimator);
    }

    /// <summary>A chain of <paramref name="start"/> followed by <paramref name="transformer"/>.</summary>
    public static TransformerChain<TTransformer> Append<TTransformer>(this ITransformer start, TTransformer transformer)
        where TTransformer : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(transformer);
        return new TransformerChain<TTransformer>(start, transformer);
    }
}
