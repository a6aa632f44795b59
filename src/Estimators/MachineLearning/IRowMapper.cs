using Microsoft.ML;

namespace Pipelines.MachineLearning;

/// <summary>
/// Computes the columns a row-to-row transformer adds, from the input row, one row at a time; a
/// <see cref="RowMappedDataView"/> runs it lazily as cursors move, and <see cref="RowMapping"/> serves it to ML.NET's
/// prediction engines.
/// </summary>
/// <remarks>
/// The shape of ML.NET's internal row mapper, reduced to three members. A mapper is immutable and shared by all
/// cursors; per-cursor state lives in the closures <see cref="CreateGetters"/> returns.
/// </remarks>
internal interface IRowMapper
{
    /// <summary>The input columns the mapper reads (columns of the input schema it was made for).</summary>
    IReadOnlyList<DataViewSchema.Column> InputColumns { get; }

    /// <summary>The columns the mapper adds, in order; one with the name of an input column hides it.</summary>
    IReadOnlyList<DataViewSchema.DetachedColumn> OutputColumns { get; }

    /// <summary>
    /// Creates one getter per output column: element <c>i</c> is a <c>ValueGetter&lt;T&gt;</c> of the raw type of
    /// <c>OutputColumns[i]</c>, or null when <paramref name="isOutputActive"/>(i) is false.
    /// </summary>
    /// <param name="input">The input row, with every column of <see cref="InputColumns"/> active.</param>
    /// <param name="isOutputActive">Whether output column <c>i</c> will be read.</param>
    /// <remarks>Getters must compute on call, not here: creating a cursor must not touch any row.</remarks>
    Delegate?[] CreateGetters(DataViewRow input, Func<int, bool> isOutputActive);
}
