using System.Collections.Immutable;

namespace Pipelines;

/// <summary>Estimators run in order, each fitted on the output of the ones before it.</summary>
/// <typeparam name="TLastTransformer">The transformer type of the last estimator, kept so that <c>Fit(...).LastTransformer</c> is typed.</typeparam>
/// <remarks>Mirrors ML.NET's <c>EstimatorChain&lt;TLastTransformer&gt;</c> (without transformer scopes and cache checkpoints). Immutable: <see cref="Append{TNewTransformer}"/> returns a new chain.</remarks>
public sealed class EstimatorChain<TLastTransformer> : IEstimator<TransformerChain<TLastTransformer>>
    where TLastTransformer : class, ITransformer
{
    private readonly ImmutableArray<IEstimator<ITransformer>> estimators;

    /// <summary>Creates an empty chain (fitting it gives an empty transformer chain).</summary>
    public EstimatorChain() : this(ImmutableArray<IEstimator<ITransformer>>.Empty) { }

    private EstimatorChain(ImmutableArray<IEstimator<ITransformer>> estimators) => this.estimators = estimators;

    /// <summary>The estimators, in order.</summary>
    public IReadOnlyList<IEstimator<ITransformer>> Estimators => estimators;

    /// <summary>A chain of these estimators followed by <paramref name="estimator"/>.</summary>
    public EstimatorChain<TNewTransformer> Append<TNewTransformer>(IEstimator<TNewTransformer> estimator)
        where TNewTransformer : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(estimator);
        return new EstimatorChain<TNewTransformer>(estimators.Add(estimator));
    }

    /// <summary>Fits each estimator on the output of the transformers fitted before it.</summary>
    /// <remarks>The whole chain's schema is checked first, so a bad column fails before any fitting starts.</remarks>
    /// <exception cref="SchemaMismatchException">An input column of some estimator is missing or of the wrong type.</exception>
    public TransformerChain<TLastTransformer> Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(SchemaShape.Create(input.Schema));
        var current = input;
        var transformers = new ITransformer[estimators.Length];
        for (var index = 0; index < estimators.Length; index++)
        {
            transformers[index] = estimators[index].Fit(current);
            if (index + 1 < estimators.Length) current = transformers[index].Transform(current);
        }

        return new TransformerChain<TLastTransformer>(transformers);
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var shape = inputSchema;
        foreach (var estimator in estimators) shape = estimator.GetOutputSchema(shape);
        return shape;
    }
}
