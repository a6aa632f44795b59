using Microsoft.ML.Data;

namespace Pipelines;

/// <summary>What ML.NET's multiclass metrics lack: per-class F1 and macro-F1, from its <see cref="ConfusionMatrix"/>.</summary>
/// <remarks>
/// For class k, with TP the diagonal count, P = TP / (rows predicted k) and R = TP / (rows labelled k) (each 0 when
/// its denominator is 0), F1 = 2PR / (P + R), or 0 when P + R = 0. Macro-F1 is the mean F1 over the classes that occur
/// as a label or a prediction (scikit-learn's choice), so a class absent from a small evaluation set does not count as 0.
/// </remarks>
public static class MulticlassMetricsExtensions
{
    /// <summary>The F1 score of each class, in slot order.</summary>
    public static IReadOnlyList<double> PerClassF1(this ConfusionMatrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var (counts, labelled, predicted) = Totals(matrix);
        var f1 = new double[counts.Count];
        for (var index = 0; index < f1.Length; index++)
        {
            var truePositives = counts[index][index];
            var precision = predicted[index] > 0 ? truePositives / predicted[index] : 0;
            var recall = labelled[index] > 0 ? truePositives / labelled[index] : 0;
            f1[index] = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
        }

        return f1;
    }

    /// <summary>The mean F1 over the classes that occur as a label or a prediction (NaN when none does).</summary>
    public static double MacroF1(this ConfusionMatrix matrix)
    {
        var f1 = matrix.PerClassF1();
        var (_, labelled, predicted) = Totals(matrix);
        var present = Enumerable.Range(0, f1.Count).Where(index => labelled[index] + predicted[index] > 0).ToList();
        return present.Count == 0 ? double.NaN : present.Average(index => f1[index]);
    }

    /// <summary>The macro-F1 of <paramref name="metrics"/>' confusion matrix; see <see cref="MacroF1(ConfusionMatrix)"/>.</summary>
    public static double MacroF1(this MulticlassClassificationMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return metrics.ConfusionMatrix.MacroF1();
    }

    private static (IReadOnlyList<IReadOnlyList<double>> Counts, double[] Labelled, double[] Predicted) Totals(ConfusionMatrix matrix)
    {
        var counts = matrix.Counts;
        var labelled = counts.Select(row => row.Sum()).ToArray();
        var predicted = Enumerable.Range(0, counts.Count).Select(column => counts.Sum(row => row[column])).ToArray();
        return (counts, labelled, predicted);
    }
}
