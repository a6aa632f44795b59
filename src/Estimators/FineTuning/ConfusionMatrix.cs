using System.Globalization;
using System.Text;

namespace Pipelines.FineTuning;

/// <summary>Counts of (label, prediction) pairs: row = the label's class, column = the predicted class, as in ML.NET's <c>ConfusionMatrix</c>.</summary>
public sealed class ConfusionMatrix
{
    private readonly long[,] counts;

    /// <summary>Creates the matrix from <paramref name="counts"/> [K, K] (copied): <c>counts[label, predicted]</c>.</summary>
    /// <exception cref="ArgumentException">The matrix is not K × K for the K names, or a count is negative.</exception>
    public ConfusionMatrix(IReadOnlyList<string> classNames, long[,] counts)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(counts);
        var classCount = classNames.Count;
        if (counts.GetLength(0) != classCount || counts.GetLength(1) != classCount)
            throw new ArgumentException($"The counts are {counts.GetLength(0)} × {counts.GetLength(1)}; {classCount} classes need {classCount} × {classCount}.", nameof(counts));
        if (counts.Cast<long>().Any(count => count < 0)) throw new ArgumentException("A count is negative.", nameof(counts));
        ClassNames = [.. classNames];
        this.counts = (long[,])counts.Clone();
        var precision = new double[classCount];
        var recall = new double[classCount];
        for (var index = 0; index < classCount; index++)
        {
            var truePositives = counts[index, index];
            precision[index] = PredictionCount(index) == 0 ? 0 : (double)truePositives / PredictionCount(index);
            recall[index] = LabelCount(index) == 0 ? 0 : (double)truePositives / LabelCount(index);
        }

        PerClassPrecision = precision;
        PerClassRecall = recall;
    }

    /// <summary>The class names, in slot order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Number of classes K.</summary>
    public int NumberOfClasses => ClassNames.Count;

    /// <summary>Per class: the fraction of its predictions that were right (0 when never predicted).</summary>
    public IReadOnlyList<double> PerClassPrecision { get; }

    /// <summary>Per class: the fraction of its rows predicted right (0 when never a label).</summary>
    public IReadOnlyList<double> PerClassRecall { get; }

    /// <summary>Rows whose label is <paramref name="labelClass"/> and prediction <paramref name="predictedClass"/>.</summary>
    /// <exception cref="IndexOutOfRangeException">A class index outside [0, K).</exception>
    public long GetCount(int labelClass, int predictedClass) => counts[labelClass, predictedClass];

    /// <summary>Rows whose label is <paramref name="labelClass"/> (a row sum).</summary>
    public long LabelCount(int labelClass)
    {
        long sum = 0;
        for (var predicted = 0; predicted < NumberOfClasses; predicted++) sum += counts[labelClass, predicted];
        return sum;
    }

    /// <summary>Rows predicted as <paramref name="predictedClass"/> (a column sum).</summary>
    public long PredictionCount(int predictedClass)
    {
        long sum = 0;
        for (var label = 0; label < NumberOfClasses; label++) sum += counts[label, predictedClass];
        return sum;
    }

    /// <summary>The matrix as aligned text, one row per label class, with recall per row and precision per column.</summary>
    public string GetFormattedConfusionTable()
    {
        var width = Math.Max(9, ClassNames.Max(name => name.Length) + 1);
        var text = new StringBuilder();
        text.Append("label \\ predicted".PadRight(width + 8));
        foreach (var name in ClassNames) text.Append(name.PadLeft(width));
        text.AppendLine("  recall".PadLeft(width));
        for (var label = 0; label < NumberOfClasses; label++)
        {
            text.Append(ClassNames[label].PadRight(width + 8));
            for (var predicted = 0; predicted < NumberOfClasses; predicted++) text.Append(counts[label, predicted].ToString(CultureInfo.InvariantCulture).PadLeft(width));
            text.AppendLine(PerClassRecall[label].ToString("F4", CultureInfo.InvariantCulture).PadLeft(width));
        }

        text.Append("precision".PadRight(width + 8));
        foreach (var precision in PerClassPrecision) text.Append(precision.ToString("F4", CultureInfo.InvariantCulture).PadLeft(width));
        return text.AppendLine().ToString();
    }
}
