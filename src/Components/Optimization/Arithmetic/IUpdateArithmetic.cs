namespace Pipelines.Components.Optimization;

/// <summary>
/// The element arithmetic an optimizer transform's formula is written against, once for every backend: a managed
/// float, a vector of floats, or a whole tensor on a device.
/// </summary>
/// <remarks>
/// A transform states its formula as a static generic method over <typeparamref name="TSelf"/> (for example
/// <c>ScaleByAdam.Formula&lt;T&gt;</c>); the managed engine runs it over spans with <see cref="FloatValue"/> and the
/// vector types, the TorchSharp backend over a parameter's tensors, so the formula lives in one place. Every
/// operation is one IEEE operation on each element, rounded once (no fused multiply-add), so vector and scalar lanes
/// give the same bits and the order written in the formula is the order computed.
/// </remarks>
/// <typeparam name="TSelf">The implementing value type.</typeparam>
internal interface IUpdateArithmetic<TSelf> where TSelf : IUpdateArithmetic<TSelf>
{
    /// <summary>Elementwise sum.</summary>
    static abstract TSelf operator +(TSelf left, TSelf right);

    /// <summary>Elementwise difference.</summary>
    static abstract TSelf operator -(TSelf left, TSelf right);

    /// <summary>Elementwise product.</summary>
    static abstract TSelf operator *(TSelf left, TSelf right);

    /// <summary>Elementwise quotient.</summary>
    static abstract TSelf operator /(TSelf left, TSelf right);

    /// <summary>Adds a scalar to every element.</summary>
    static abstract TSelf operator +(TSelf left, float right);

    /// <summary>Multiplies every element by a scalar.</summary>
    static abstract TSelf operator *(TSelf left, float right);

    /// <summary>Multiplies every element by a scalar (the same product, written scalar first as papers do).</summary>
    static abstract TSelf operator *(float left, TSelf right);

    /// <summary>Divides every element by a scalar.</summary>
    static abstract TSelf operator /(TSelf left, float right);

    /// <summary>+1 for positive, -1 for negative, +0 for ±0 (NaN passes through on the managed engine).</summary>
    static abstract TSelf Sign(TSelf value);

    /// <summary>The correctly rounded square root of every element.</summary>
    static abstract TSelf SquareRoot(TSelf value);

    /// <summary>
    /// Marks a value the formula reads more than once: the identity on every backend, but a backend that computes in place
    /// (the TorchSharp tensors overwrite a temporary they alone hold) must not overwrite it. A formula wraps every
    /// intermediate result it uses twice, or returns and uses again, in <c>Keep</c>.
    /// </summary>
    static abstract TSelf Keep(TSelf value);
}

/// <summary>
/// A managed arithmetic value that holds <see cref="Count"/> consecutive floats of a span: the lanes a transform's
/// update loop steps through (a vector, then one float at a time for the tail).
/// </summary>
/// <typeparam name="TSelf">The implementing value type.</typeparam>
internal interface ILanes<TSelf> : IUpdateArithmetic<TSelf> where TSelf : ILanes<TSelf>
{
    /// <summary>How many floats one value holds.</summary>
    static abstract int Count { get; }

    /// <summary>Loads <see cref="Count"/> floats of <paramref name="source"/> from <paramref name="offset"/>; the caller keeps it in range.</summary>
    static abstract TSelf Load(ReadOnlySpan<float> source, int offset);

    /// <summary>Stores the value into <paramref name="destination"/> from <paramref name="offset"/>; the caller keeps it in range.</summary>
    void Store(Span<float> destination, int offset);
}
