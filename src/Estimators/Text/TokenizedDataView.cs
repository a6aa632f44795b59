using Pipelines.Components.Text;
using Pipelines.Data;

namespace Pipelines.Text;

/// <summary>
/// The output of <see cref="BytePairEncodingTransformer.Transform"/>: the input with a token column added, which also
/// says which tokenizer made that column.
/// </summary>
/// <remarks>
/// This is how a language model fitted or evaluated right after the tokenizer (as in an estimator chain) learns the
/// vocabulary size, the end-of-text id and the bytes behind each token, where ML.NET would use column annotations.
/// A view made by any other transform in between does not carry the tokenizer on.
/// </remarks>
public sealed class TokenizedDataView : IDataView
{
    private readonly RowMappedDataView inner;

    internal TokenizedDataView(RowMappedDataView inner, BytePairEncoding tokenizer, string tokensColumnName)
    {
        this.inner = inner;
        Tokenizer = tokenizer;
        TokensColumnName = tokensColumnName;
    }

    /// <summary>The tokenizer that wrote <see cref="TokensColumnName"/>.</summary>
    public BytePairEncoding Tokenizer { get; }

    /// <summary>The column of token ids the tokenizer wrote.</summary>
    public string TokensColumnName { get; }

    /// <inheritdoc/>
    public DataViewSchema Schema => inner.Schema;

    /// <inheritdoc/>
    public long? GetRowCount() => inner.GetRowCount();

    /// <inheritdoc/>
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded) => inner.GetRowCursor(columnsNeeded);

    /// <summary>The tokenizer behind column <paramref name="tokensColumnName"/> of <paramref name="data"/>, or null when it is not known.</summary>
    public static BytePairEncoding? FindTokenizer(IDataView data, string tokensColumnName)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(tokensColumnName);
        return data is TokenizedDataView view && string.Equals(view.TokensColumnName, tokensColumnName, StringComparison.Ordinal) ? view.Tokenizer : null;
    }
}
