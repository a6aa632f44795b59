using Pipelines.Data;

namespace Pipelines.Pretraining;

/// <summary>The rows of a token column joined into one stream, each row preceded by the end-of-text id.</summary>
/// <param name="Tokens">The stream: <c>eot r0[0] r0[1] ... eot r1[0] ...</c>.</param>
/// <param name="RowCount">Rows read.</param>
/// <param name="MaximumId">The largest id in the stream (the end-of-text id included).</param>
/// <param name="MaximumIdRow">The row holding <see cref="MaximumId"/> (-1 when it is the end-of-text id).</param>
internal sealed record TokenStream(int[] Tokens, long RowCount, int MaximumId, long MaximumIdRow)
{
    /// <summary>Reads column <paramref name="column"/> of <paramref name="data"/>, the argument <paramref name="parameterName"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is negative (the message names the column, the row and the id).</exception>
    public static TokenStream Read(IDataView data, DataViewSchema.Column column, int endOfTextId, string parameterName, CancellationToken cancellationToken)
    {
        var tokens = new List<int>();
        var (maximum, maximumRow) = (endOfTextId, -1L);
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<ReadOnlyMemory<int>>(column);
        ReadOnlyMemory<int> row = default;
        long rowCount = 0;
        while (cursor.MoveNext())
        {
            if ((rowCount & 255) == 0) cancellationToken.ThrowIfCancellationRequested();
            getter(ref row);
            tokens.Add(endOfTextId);
            var span = row.Span;
            for (var index = 0; index < span.Length; index++)
            {
                var id = span[index];
                if (id < 0)
                    throw new ArgumentOutOfRangeException(parameterName, id, $"Column '{column.Name}' of '{parameterName}', row {rowCount}, position {index}: token id {id} is negative.");
                if (id > maximum) (maximum, maximumRow) = (id, rowCount);
            }

            tokens.AddRange(span);
            rowCount++;
        }

        return new TokenStream([.. tokens], rowCount, maximum, maximumRow);
    }

    /// <summary>Throws unless every id is below <paramref name="vocabularySize"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Naming <c>VocabularySize</c>, the id and its row.</exception>
    public void CheckVocabulary(int vocabularySize, string columnName, string parameterName)
    {
        if (MaximumId < vocabularySize) return;
        var where = MaximumIdRow < 0 ? "the end-of-text id" : $"column '{columnName}' of '{parameterName}', row {MaximumIdRow}";
        throw new ArgumentOutOfRangeException(nameof(CausalLanguageModelOptions.VocabularySize), vocabularySize,
            $"The vocabulary of {vocabularySize} ids does not cover token id {MaximumId} ({where}); set VocabularySize above {MaximumId}.");
    }

    /// <summary>Throws unless the stream holds one training window (<paramref name="sequenceLength"/> inputs and their targets).</summary>
    /// <exception cref="ArgumentException">The stream is too short.</exception>
    public void CheckLength(int sequenceLength, string parameterName)
    {
        if (Tokens.Length >= sequenceLength + 1) return;
        throw new ArgumentException(
            $"'{parameterName}' holds {Tokens.Length} tokens ({RowCount} rows, separators included); a sequence of {sequenceLength} needs at least {sequenceLength + 1}.", parameterName);
    }
}
