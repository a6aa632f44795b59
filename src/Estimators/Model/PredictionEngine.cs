using Pipelines.Data.Mapping;

namespace Pipelines;

/// <summary>Runs a transformer on one example at a time: <c>engine.Predict(input)</c>.</summary>
/// <typeparam name="TSrc">The input class; its readable members are the input columns.</typeparam>
/// <typeparam name="TDst">The output class; its writable members are filled from the output columns of their names.</typeparam>
/// <remarks>
/// As in ML.NET, an engine is <b>not thread-safe</b>: it reuses one input view and cursor state across calls. Create
/// one engine per thread (engines are cheap; the transformer is shared). Concurrent calls on one engine throw
/// <see cref="InvalidOperationException"/> rather than return mixed-up results.
/// </remarks>
public sealed class PredictionEngine<TSrc, TDst> : IDisposable
    where TSrc : class
    where TDst : class, new()
{
    private readonly SingleRowDataView<TSrc> source = new();
    private readonly IDataView output;
    private readonly IReadOnlyList<(MemberBinding<TDst> Binding, DataViewSchema.Column Column)> bindings;
    private int busy;

    internal PredictionEngine(ITransformer transformer, bool ignoreMissingColumns)
    {
        if (!transformer.IsRowToRowMapper)
            throw new InvalidOperationException($"{transformer.GetType().Name} is not a row-to-row mapper, so it cannot predict one example at a time.");
        OutputSchema = transformer.GetOutputSchema(source.Schema);
        output = transformer.Transform(source);
        bindings = DataClassBinding.BindWritable<TDst>(output.Schema, ignoreMissingColumns);
    }

    /// <summary>The schema of the transformer's output.</summary>
    public DataViewSchema OutputSchema { get; }

    /// <summary>Runs the transformer on <paramref name="example"/> and returns a new <typeparamref name="TDst"/>.</summary>
    /// <exception cref="InvalidOperationException">Another thread is using this engine.</exception>
    public TDst Predict(TSrc example)
    {
        var prediction = new TDst();
        Predict(example, ref prediction);
        return prediction;
    }

    /// <summary>Runs the transformer on <paramref name="example"/>, filling <paramref name="prediction"/> (created if null).</summary>
    /// <exception cref="InvalidOperationException">Another thread is using this engine.</exception>
    public void Predict(TSrc example, ref TDst prediction)
    {
        ArgumentNullException.ThrowIfNull(example);
        if (Interlocked.Exchange(ref busy, 1) != 0)
            throw new InvalidOperationException("This PredictionEngine is in use by another thread: it is not thread-safe, create one per thread.");
        try
        {
            prediction ??= new TDst();
            source.Current = example;
            using var cursor = output.GetRowCursor(bindings.Select(pair => pair.Column));
            if (!cursor.MoveNext()) throw new InvalidOperationException("The transformer produced no row for the example.");
            foreach (var (binding, column) in bindings) binding.CreateAssigner(cursor, column)(prediction);
        }
        finally
        {
            source.Current = null;
            Volatile.Write(ref busy, 0);
        }
    }

    /// <summary>Releases nothing at present; kept for parity with ML.NET's disposable engine.</summary>
    public void Dispose() { }
}
