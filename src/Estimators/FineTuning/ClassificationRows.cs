using Microsoft.ML;
using Pipelines.Components.Training;
using Pipelines.Text;

namespace Pipelines.FineTuning;

/// <summary>Reads a data view's token and key-label columns into the <see cref="LabeledSequences"/> the engine trains on.</summary>
internal static class ClassificationRows
{
    /// <summary>
    /// Every row's token ids (0-based) and class (key − 1). Rows whose label is missing (key 0) are skipped, as ML.NET's
    /// trainers skip them; <paramref name="skipped"/> counts them.
    /// </summary>
    /// <exception cref="ArgumentException">A labelled row has no tokens or a missing token, or no row has a label (the data and row are named).</exception>
    public static LabeledSequences Read(IDataView data, DataViewSchema.Column tokens, DataViewSchema.Column label, string dataName, out long skipped)
    {
        var sequences = new List<int[]>();
        var labels = new List<int>();
        skipped = 0;
        using var cursor = data.GetRowCursor([tokens, label]);
        var readTokens = TokenColumn.CreateReader(cursor, tokens);
        var labelGetter = cursor.GetGetter<uint>(label);
        uint key = 0;
        while (cursor.MoveNext())
        {
            labelGetter(ref key);
            if (key == 0)
            {
                skipped++;
                continue;
            }

            var ids = readTokens();
            if (ids.Length == 0)
                throw new ArgumentException(
                    $"Row {cursor.Position} of the {dataName} data has no tokens in column '{tokens.Name}'; the encoder needs at least one (drop empty texts first).", dataName);
            sequences.Add(ids);
            labels.Add((int)key - 1);
        }

        if (sequences.Count == 0)
            throw new ArgumentException($"The {dataName} data has no row with a label in column '{label.Name}' ({skipped} rows with a missing label).", dataName);
        return new LabeledSequences(sequences, labels);
    }
}
