using Microsoft.ML;
using Microsoft.ML.Data;

namespace Pipelines.Estimators.Tests.FineTuning;

/// <summary>ML.NET's evaluator on hand-made key-labelled scores, and the macro-F1 it lacks.</summary>
[TestClass]
public sealed class MulticlassMetricsTests
{
    public sealed class ScoredRow
    {
        public string Label { get; set; } = "";

        public string PredictedLabel { get; set; } = "";

        [VectorType(3)]
        public float[] Score { get; set; } = [];
    }

    public sealed class ClassName
    {
        public string Name { get; set; } = "";
    }

    /// <summary>The rows with their labels and predictions as keys of a, b, c (keys 1, 2, 3), as a classifier's output has them.</summary>
    private static IDataView Keyed(MLContext context, IEnumerable<ScoredRow> rows)
    {
        var classes = context.Data.LoadFromEnumerable(new[] { "a", "b", "c" }.Select(name => new ClassName { Name = name }));
        var data = context.Data.LoadFromEnumerable(rows);
        return context.Transforms.Conversion.MapValueToKey("Label", keyData: classes)
            .Append(context.Transforms.Conversion.MapValueToKey("PredictedLabel", keyData: classes))
            .Fit(data).Transform(data);
    }

    /// <summary>
    /// Ten rows of classes a, b, c. Confusion matrix (label × predicted): a = [3, 1, 0], b = [1, 2, 1],
    /// c = [1, 0, 1]. Right rows give their label 0.8, wrong rows 0.25.
    /// </summary>
    private static ScoredRow[] HandMadeRows()
    {
        static ScoredRow Row(char label, char predicted)
        {
            var (labelSlot, predictedSlot) = (label - 'a', predicted - 'a');
            var names = "abc";
            var score = new float[3];
            Array.Fill(score, label == predicted ? 0.1f : 0.05f);
            score[labelSlot] = label == predicted ? 0.8f : 0.25f;
            if (label != predicted) score[predictedSlot] = 0.7f;
            return new ScoredRow { Label = names[labelSlot].ToString(), PredictedLabel = names[predictedSlot].ToString(), Score = score };
        }

        return [Row('a', 'a'), Row('b', 'b'), Row('a', 'b'), Row('c', 'c'), Row('a', 'a'), Row('b', 'a'), Row('b', 'c'), Row('c', 'a'), Row('a', 'a'), Row('b', 'b')];
    }

    [TestMethod]
    public void MLNetsEvaluatorAndTheF1HelpersGiveTheKnownValuesOfAHandMadeMatrix()
    {
        var context = new MLContext(seed: 1);

        var metrics = context.MulticlassClassification.Evaluate(Keyed(context, HandMadeRows()), "Label", "Score", "PredictedLabel");

        double[][] expected = [[3, 1, 0], [1, 2, 1], [1, 0, 1]];
        for (var label = 0; label < 3; label++) CollectionAssert.AreEqual(expected[label], metrics.ConfusionMatrix.Counts[label].ToArray(), $"row {label}");
        Assert.AreEqual(0.6, metrics.MicroAccuracy, 1e-12);
        Assert.AreEqual(-(6 * Math.Log(0.8f) + 4 * Math.Log(0.25)) / 10, metrics.LogLoss, 1e-6);
        CollectionAssert.AreEqual(new[] { 2.0 / 3, 4.0 / 7, 0.5 }, metrics.ConfusionMatrix.PerClassF1().ToArray(), new Tolerance(1e-12));
        Assert.AreEqual(73.0 / 126, metrics.MacroF1(), 1e-12);
    }

    [TestMethod]
    public void MacroF1LeavesOutAClassThatIsNeitherALabelNorAPrediction()
    {
        var context = new MLContext(seed: 1);
        ScoredRow[] rows =
        [
            new() { Label = "a", PredictedLabel = "a", Score = [1, 0, 0] },
            new() { Label = "b", PredictedLabel = "b", Score = [0, 1, 0] },
            new() { Label = "b", PredictedLabel = "a", Score = [0.6f, 0.4f, 0] },
        ];

        var metrics = context.MulticlassClassification.Evaluate(Keyed(context, rows), "Label", "Score", "PredictedLabel");

        // a: P = 1/2, R = 1, F1 = 2/3; b: P = 1, R = 1/2, F1 = 2/3; c never occurs and is left out of the mean.
        Assert.AreEqual(0.0, metrics.ConfusionMatrix.PerClassF1()[2]);
        Assert.AreEqual(2.0 / 3, metrics.MacroF1(), 1e-12);
    }

    private sealed class Tolerance(double tolerance) : System.Collections.IComparer
    {
        public int Compare(object? x, object? y) => Math.Abs((double)x! - (double)y!) <= tolerance ? 0 : 1;
    }
}
