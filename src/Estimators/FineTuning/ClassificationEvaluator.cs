using Pipelines.Data;

namespace Pipelines.FineTuning;

/// <summary>Reads labels, predicted labels and scores from a view and computes <see cref="ClassificationMetrics"/>.</summary>
/// <remarks>
/// The score slots are matched to classes as <see cref="TextClassificationTransformer.Classes"/> orders them: keys by
/// value, booleans as (false, true), text in ordinal order. For text, the classes are those the label and
/// predicted-label columns hold, so they must number exactly the score's size, and every row's predicted label must be
/// the class of its highest score; otherwise the order cannot be recovered and evaluation fails saying so. Rows with a
/// missing label (empty text, key 0) are skipped, as in ML.NET.
/// </remarks>
internal static class ClassificationEvaluator
{
    public static ClassificationMetrics Evaluate(IDataView predictions, string labelColumnName, string scoreColumnName, string predictedLabelColumnName)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        var schema = predictions.Schema;
        var labelColumn = SchemaValidation.RequireColumn(schema, labelColumnName, ClassLabels.Requirement);
        var scoreColumn = SchemaValidation.RequireColumn(schema, scoreColumnName, ColumnRequirement.Vector(NumberDataViewType.Single));
        var predictedColumn = SchemaValidation.RequireColumn(schema, predictedLabelColumnName, ColumnRequirement.Exactly(labelColumn.Type));
        var classCount = ((VectorDataViewType)scoreColumn.Type).Size;
        if (classCount < 2)
            throw new SchemaMismatchException(scoreColumnName, "Vector<Single, K> with K >= 2 classes", scoreColumn.Type.ToString()!, nameof(predictions));

        var labelNames = new List<string>();
        var predictedNames = new List<string>();
        var probabilities = new List<float>();
        using (var cursor = predictions.GetRowCursor([labelColumn, scoreColumn, predictedColumn]))
        {
            var readLabel = ClassLabels.NameReader(cursor, labelColumn);
            var readPredicted = ClassLabels.NameReader(cursor, predictedColumn);
            var scoreGetter = cursor.GetGetter<ReadOnlyMemory<float>>(scoreColumn);
            ReadOnlyMemory<float> scores = default;
            while (cursor.MoveNext())
            {
                if (readLabel() is not { } label) continue;
                scoreGetter(ref scores);
                if (scores.Length != classCount)
                    throw new ArgumentException($"Row {cursor.Position} of column '{scoreColumnName}' has {scores.Length} scores, not {classCount}.", nameof(predictions));
                labelNames.Add(label);
                predictedNames.Add(readPredicted() ?? throw new ArgumentException($"Row {cursor.Position} has a missing value in column '{predictedLabelColumnName}'.", nameof(predictions)));
                probabilities.AddRange(scores.Span);
            }
        }

        if (labelNames.Count == 0) throw new ArgumentException($"No row of the data has a label in column '{labelColumnName}'.", nameof(predictions));
        var classes = ClassLabels.Create(labelColumn.Type, labelColumnName, labelNames.Concat(predictedNames));
        if (classes.Count != classCount)
            throw new InvalidOperationException(
                $"Column '{scoreColumnName}' has {classCount} slots but the labels and predictions hold {classes.Count} classes ({string.Join(", ", classes.Names)}), " +
                "so the slots cannot be matched to classes: evaluate data in which every class occurs as a label or a prediction.");

        var labels = labelNames.Select(classes.IndexOf).ToArray();
        var predicted = predictedNames.Select(classes.IndexOf).ToArray();
        var allProbabilities = probabilities.ToArray();
        for (var row = 0; row < predicted.Length; row++)
        {
            var slots = allProbabilities.AsSpan(row * classCount, classCount);
            if (slots[predicted[row]] < System.Numerics.Tensors.TensorPrimitives.Max(slots))
                throw new InvalidOperationException(
                    $"Row {row}'s predicted label '{predictedNames[row]}' is not the class of its highest score in '{scoreColumnName}' (slot order {string.Join(", ", classes.Names)}): " +
                    "the scores do not follow the classes' order.");
        }

        return ClassificationMetrics.Compute(classes.Names, labels, predicted, allProbabilities);
    }
}
