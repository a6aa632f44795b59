namespace Pipelines.FineTuning;

/// <summary>How well a classifier's predictions match the labels, as ML.NET's <c>MulticlassClassificationMetrics</c>.</summary>
/// <param name="Accuracy">Fraction of rows whose predicted label is the label (ML.NET's micro-accuracy).</param>
/// <param name="MacroF1">Mean of the per-class F1 over the classes that occur as a label or a prediction.</param>
/// <param name="LogLoss">Mean of <c>-ln max(p(label), 1e-15)</c> over the rows (nats; lower is better; 0 is perfect).</param>
/// <param name="PerClassPrecision">Per class k: TP/(TP+FP), 0 when k is never predicted.</param>
/// <param name="PerClassRecall">Per class k: TP/(TP+FN), 0 when k is never a label.</param>
/// <param name="PerClassF1">Per class k: 2PR/(P+R), 0 when P + R = 0.</param>
/// <param name="ConfusionMatrix">Counts of (label, prediction) pairs.</param>
/// <remarks>
/// Macro-F1 leaves out classes that are neither a label nor a prediction in the data evaluated (scikit-learn's choice),
/// so a class absent from a small evaluation set does not count as an F1 of 0. The clamp of the log-loss at 1e-15 is
/// ML.NET's.
/// </remarks>
public sealed record ClassificationMetrics(
    double Accuracy,
    double MacroF1,
    double LogLoss,
    IReadOnlyList<double> PerClassPrecision,
    IReadOnlyList<double> PerClassRecall,
    IReadOnlyList<double> PerClassF1,
    ConfusionMatrix ConfusionMatrix)
{
    /// <summary>The smallest probability the log-loss takes the logarithm of.</summary>
    public const double ProbabilityFloor = 1e-15;

    /// <summary>The class names, in slot order (those of <see cref="ConfusionMatrix"/>).</summary>
    public IReadOnlyList<string> ClassNames => ConfusionMatrix.ClassNames;

    /// <summary>
    /// Computes the metrics of <c>n</c> rows: <paramref name="labels"/> and <paramref name="predictions"/> are class slots,
    /// <paramref name="probabilities"/> is [n, K] (row i's probability of each class).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two classes, no rows, or lengths that do not match.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A slot outside [0, K), or a probability that is NaN, negative or above 1 (the row is named).</exception>
    public static ClassificationMetrics Compute(IReadOnlyList<string> classNames, ReadOnlySpan<int> labels, ReadOnlySpan<int> predictions, ReadOnlySpan<float> probabilities)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        var classCount = classNames.Count;
        if (classCount < 2) throw new ArgumentException($"Metrics need at least two classes; {classCount} given.", nameof(classNames));
        if (labels.IsEmpty) throw new ArgumentException("There are no rows to evaluate.", nameof(labels));
        if (predictions.Length != labels.Length) throw new ArgumentException($"There are {labels.Length} labels but {predictions.Length} predictions.", nameof(predictions));
        if (probabilities.Length != (long)labels.Length * classCount)
            throw new ArgumentException($"'{nameof(probabilities)}' has {probabilities.Length} values; {labels.Length} rows of {classCount} classes need {(long)labels.Length * classCount}.", nameof(probabilities));

        var counts = new long[classCount, classCount];
        double logLossSum = 0;
        var correct = 0L;
        for (var row = 0; row < labels.Length; row++)
        {
            var (label, predicted) = (labels[row], predictions[row]);
            if ((uint)label >= (uint)classCount) throw new ArgumentOutOfRangeException(nameof(labels), label, $"Label {row} is outside [0, {classCount}).");
            if ((uint)predicted >= (uint)classCount) throw new ArgumentOutOfRangeException(nameof(predictions), predicted, $"Prediction {row} is outside [0, {classCount}).");
            var probability = probabilities[row * classCount + label];
            if (!(probability is >= 0 and <= 1))
                throw new ArgumentOutOfRangeException(nameof(probabilities), probability, $"Row {row}'s probability of its label is not in [0, 1].");
            counts[label, predicted]++;
            correct += label == predicted ? 1 : 0;
            logLossSum -= Math.Log(Math.Max(probability, ProbabilityFloor));
        }

        var matrix = new ConfusionMatrix(classNames, counts);
        var f1 = new double[classCount];
        double f1Sum = 0;
        var present = 0;
        for (var index = 0; index < classCount; index++)
        {
            var (precision, recall) = (matrix.PerClassPrecision[index], matrix.PerClassRecall[index]);
            f1[index] = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
            if (matrix.LabelCount(index) + matrix.PredictionCount(index) == 0) continue;
            f1Sum += f1[index];
            present++;
        }

        return new ClassificationMetrics((double)correct / labels.Length, f1Sum / present, logLossSum / labels.Length,
            matrix.PerClassPrecision, matrix.PerClassRecall, f1, matrix);
    }
}
