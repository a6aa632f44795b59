using System.Collections;
using System.Collections.Immutable;

namespace Pipelines;

/// <summary>Transformers applied in order; what fitting an <see cref="EstimatorChain{TLastTransformer}"/> gives.</summary>
/// <typeparam name="TLastTransformer">The type of the last transformer.</typeparam>
/// <remarks>Mirrors ML.NET's <c>TransformerChain&lt;TLastTransformer&gt;</c>. Enumerating it yields the transformers in order.</remarks>
public sealed class TransformerChain<TLastTransformer> : ITransformer, IEnumerable<ITransformer>, ITransformerChain
    where TLastTransformer : class, ITransformer
{
    private readonly ImmutableArray<ITransformer> transformers;

    /// <summary>Creates a chain of <paramref name="transformers"/>, the last of which must be a <typeparamref name="TLastTransformer"/>.</summary>
    /// <exception cref="ArgumentException">The last transformer is not a <typeparamref name="TLastTransformer"/>.</exception>
    public TransformerChain(params IEnumerable<ITransformer> transformers)
    {
        ArgumentNullException.ThrowIfNull(transformers);
        this.transformers = [.. transformers];
        if (this.transformers.Any(transformer => transformer is null))
            throw new ArgumentException("A transformer of the chain is null.", nameof(transformers));
        if (this.transformers.Length > 0 && this.transformers[^1] is not TLastTransformer)
            throw new ArgumentException(
                $"The last transformer is a {this.transformers[^1].GetType().Name}, not a {typeof(TLastTransformer).Name}.", nameof(transformers));
    }

    /// <summary>The last transformer, typed.</summary>
    /// <exception cref="InvalidOperationException">The chain is empty.</exception>
    public TLastTransformer LastTransformer =>
        transformers.Length > 0 ? (TLastTransformer)transformers[^1] : throw new InvalidOperationException("The transformer chain is empty.");

    /// <summary>Number of transformers.</summary>
    public int Count => transformers.Length;

    /// <inheritdoc/>
    public bool IsRowToRowMapper => transformers.All(transformer => transformer.IsRowToRowMapper);

    IReadOnlyList<ITransformer> ITransformerChain.Transformers => transformers;

    /// <summary>A chain of these transformers followed by <paramref name="transformer"/>.</summary>
    public TransformerChain<TNewLast> Append<TNewLast>(TNewLast transformer)
        where TNewLast : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(transformer);
        return new TransformerChain<TNewLast>(transformers.Add(transformer));
    }

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var schema = inputSchema;
        foreach (var transformer in transformers) schema = transformer.GetOutputSchema(schema);
        return schema;
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var current = input;
        foreach (var transformer in transformers) current = transformer.Transform(current);
        return current;
    }

    /// <inheritdoc/>
    public IEnumerator<ITransformer> GetEnumerator() => ((IEnumerable<ITransformer>)transformers).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A chain of any last-transformer type, seen without its type argument (for saving).</summary>
internal interface ITransformerChain
{
    /// <summary>The transformers, in order.</summary>
    IReadOnlyList<ITransformer> Transformers { get; }
}
