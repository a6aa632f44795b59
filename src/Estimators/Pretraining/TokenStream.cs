using Microsoft.ML;
using Pipelines.Components.Text;
using Pipelines.Text;

namespace Pipelines.Pretraining;

/// <summary>The rows of a token column joined into one stream, each row preceded by the end-of-text id.</summary>
/// <param name="Tokens">The stream: <c>eot r0[0] r0[1] ... eot r1[0] ...</c>.</param>
/// <param name="RowCount">Rows read.</param>
internal sealed record TokenStream(int[] Tokens, long RowCount)
{
    /// <summary>Reads the token column <paramref name="column"/> (keys, see <see cref="TokenColumn"/>) of <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">A row holds a missing key (the message names the row).</exception>
    public static TokenStream Read(IDataView data, DataViewSchema.Column column, int endOfTextId, CancellationToken cancellationToken)
    {
        var tokens = new List<int>();
        using var cursor = data.GetRowCursor([column]);
        var read = TokenColumn.CreateReader(cursor, column);
        long rowCount = 0;
        while (cursor.MoveNext())
        {
            if ((rowCount & 255) == 0) cancellationToken.ThrowIfCancellationRequested();
            tokens.Add(endOfTextId);
            tokens.AddRange(read());
            rowCount++;
        }

        return new TokenStream([.. tokens], rowCount);
    }

    /// <summary>Encodes the text column <paramref name="column"/> of <paramref name="data"/> with <paramref name="tokenizer"/>.</summary>
    public static TokenStream Encode(IDataView data, DataViewSchema.Column column, BytePairEncoding tokenizer, int endOfTextId, CancellationToken cancellationToken)
    {
        var tokens = new List<int>();
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        ReadOnlyMemory<char> text = default;
        long rowCount = 0;
        while (cursor.MoveNext())
        {
            if ((rowCount & 255) == 0) cancellationToken.ThrowIfCancellationRequested();
            getter(ref text);
            tokens.Add(endOfTextId);
            tokens.AddRange(tokenizer.Encode(text.ToString()));
            rowCount++;
        }

        return new TokenStream([.. tokens], rowCount);
    }

    /// <summary>Throws unless the stream holds one training window (<paramref name="sequenceLength"/> inputs and their targets).</summary>
    /// <exception cref="ArgumentException">The stream is too short; <paramref name="parameterName"/> names the data.</exception>
    public void CheckLength(int sequenceLength, string parameterName)
    {
        if (Tokens.Length >= sequenceLength + 1) return;
        throw new ArgumentException(
            $"'{parameterName}' holds {Tokens.Length} tokens ({RowCount} rows, separators included); a sequence of {sequenceLength} needs at least {sequenceLength + 1}.", parameterName);
    }
}
