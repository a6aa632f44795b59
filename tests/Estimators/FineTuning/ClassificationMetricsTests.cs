using Pipelines.Data;
using Pipelines.FineTuning;

namespace Pipelines.Estimators.Tests.FineTuning;

[TestClass]
public sealed class ClassificationMetricsTests
{
    /// <summary>
    /// Ten rows of classes a, b, c. Confusion matrix (label × predicted): a = [3, 1, 0], b = [1, 2, 1], c = [1, 0, 1].
    /// Right rows give their label 0.8, wrong rows 0.25.
    /// </summary>
    private static ScoredRow[] HandMadeRows()
    {
        static ScoredRow Row(string label, string predicted)
        {
            var classes = "abc";
            var score = new float[3];
            if (label == predicted)
            {
                Array.Fill(score, 0.1f);
                score[classes.IndexOf(label)] = 0.8f;
            }
            else
            {
                Array.Fill(score, 0.05f);
                score[classes.IndexOf(label)] = 0.25f;
                score[classes.IndexOf(predicted)] = 0.7f;
            }

            return new ScoredRow { Label = label, PredictedLabel = predicted, Score = score };
        }

        return
        [
            Row("a", "a"), Row("b", "b"), Row("a", "b"), Row("c", "c"), Row("a", "a"),
            Row("b", "a"), Row("b", "c"), Row("c", "a"), Row("a", "a"), Row("b", "b"),
        ];
    }

    [TestMethod]
    public void AHandMadeConfusionMatrixGivesTheKnownMetrics()
    {
        var context = new PipelineContext(1);

        var metrics = context.FineTuning.Evaluate(context.Data.LoadFromEnumerable(HandMadeRows()));

        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, metrics.ClassNames.ToArray());
        long[,] expected = { { 3, 1, 0 }, { 1, 2, 1 }, { 1, 0, 1 } };
        for (var label = 0; label < 3; label++)
        {
            for (var predicted = 0; predicted < 3; predicted++)
                Assert.AreEqual(expected[label, predicted], metrics.ConfusionMatrix.GetCount(label, predicted), $"[{label}, {predicted}]");
        }

        Assert.AreEqual(0.6, metrics.Accuracy, 1e-12);
        CollectionAssert.AreEqual(new[] { 0.6, 2.0 / 3, 0.5 }, metrics.PerClassPrecision.ToArray(), new Tolerance(1e-12));
        CollectionAssert.AreEqual(new[] { 0.75, 0.5, 0.5 }, metrics.PerClassRecall.ToArray(), new Tolerance(1e-12));
        CollectionAssert.AreEqual(new[] { 2.0 / 3, 4.0 / 7, 0.5 }, metrics.PerClassF1.ToArray(), new Tolerance(1e-12));
        Assert.AreEqual(73.0 / 126, metrics.MacroF1, 1e-12);
        Assert.AreEqual(-(6 * Math.Log(0.8f) + 4 * Math.Log(0.25)) / 10, metrics.LogLoss, 1e-9);
        StringAssert.Contains(metrics.ConfusionMatrix.GetFormattedConfusionTable(), "0.7500");
    }

    [TestMethod]
    public void MacroF1SkipsAClassThatIsNeitherLabelNorPredictionAndLogLossIsClamped()
    {
        float[] certainA = [1, 0, 0];
        float[] certainB = [0, 1, 0];
        int[] labels = [0, 1, 1];
        int[] predictions = [0, 1, 0];

        var metrics = ClassificationMetrics.Compute(["a", "b", "c"], labels, predictions, [.. certainA, .. certainB, .. certainA]);

        // a: P = 1/2, R = 1, F1 = 2/3; b: P = 1, R = 1/2, F1 = 2/3; c never occurs and is left out of the mean.
        Assert.AreEqual(2.0 / 3, metrics.MacroF1, 1e-12);
        Assert.AreEqual(0.0, metrics.PerClassF1[2]);
        Assert.AreEqual(-Math.Log(ClassificationMetrics.ProbabilityFloor) / 3, metrics.LogLoss, 1e-12, "p = 0 costs -ln 1e-15");
    }

    [TestMethod]
    public void BooleanAndKeyLabelsIndexTheScoreSlotsByValue()
    {
        var context = new PipelineContext(1);
        var booleans = context.Data.LoadFromEnumerable(new[]
        {
            new BooleanScored { Label = true, PredictedLabel = true, Score = [0.4f, 0.6f] },
            new BooleanScored { Label = false, PredictedLabel = true, Score = [0.3f, 0.7f] },
        });
        var keys = context.Data.LoadFromEnumerable(new[]
        {
            new KeyScored { Label = 3, PredictedLabel = 3, Score = [0.1f, 0.1f, 0.8f] },
            new KeyScored { Label = 0, PredictedLabel = 1, Score = [0.9f, 0.05f, 0.05f] }, // missing label: skipped
            new KeyScored { Label = 2, PredictedLabel = 1, Score = [0.5f, 0.4f, 0.1f] },
        });

        var booleanMetrics = context.FineTuning.Evaluate(booleans);
        var keyMetrics = context.FineTuning.Evaluate(keys);

        Assert.AreEqual(0.5, booleanMetrics.Accuracy);
        Assert.AreEqual(-(Math.Log(0.6f) + Math.Log(0.3f)) / 2, booleanMetrics.LogLoss, 1e-9);
        Assert.AreEqual(1L, booleanMetrics.ConfusionMatrix.GetCount(0, 1));
        Assert.AreEqual(0.5, keyMetrics.Accuracy);
        Assert.AreEqual(-(Math.Log(0.8f) + Math.Log(0.4f)) / 2, keyMetrics.LogLoss, 1e-9);
        CollectionAssert.AreEqual(new[] { "1", "2", "3" }, keyMetrics.ClassNames.ToArray());
    }

    [TestMethod]
    public void MissingOrMistypedColumnsAreNamed()
    {
        var context = new PipelineContext(1);
        var data = context.Data.LoadFromEnumerable(HandMadeRows());

        var missing = Assert.ThrowsExactly<SchemaMismatchException>(() => context.FineTuning.Evaluate(data, scoreColumnName: "Probability"));
        Assert.AreEqual("Probability", missing.ColumnName);
        var mistyped = Assert.ThrowsExactly<SchemaMismatchException>(() => context.FineTuning.Evaluate(data, labelColumnName: "Score"));
        Assert.AreEqual("Score", mistyped.ColumnName);
    }

    [TestMethod]
    public void ScoresOutOfTheClassesOrderAreRejected()
    {
        var context = new PipelineContext(1);
        var rows = HandMadeRows();
        rows[0] = new ScoredRow { Label = "a", PredictedLabel = "a", Score = [0.1f, 0.8f, 0.1f] };

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => context.FineTuning.Evaluate(context.Data.LoadFromEnumerable(rows)));

        StringAssert.Contains(error.Message, "Row 0's predicted label 'a' is not the class of its highest score");
        var twoClasses = rows.Where(row => row.Label != "c" && row.PredictedLabel != "c").ToArray();
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => context.FineTuning.Evaluate(context.Data.LoadFromEnumerable(twoClasses))).Message,
            "has 3 slots but the labels and predictions hold 2 classes");
    }

    [TestMethod]
    public void ComputeRejectsBadInputNamingIt()
    {
        Assert.AreEqual("classNames", Assert.ThrowsExactly<ArgumentException>(() => ClassificationMetrics.Compute(["a"], [0], [0], [1])).ParamName);
        Assert.AreEqual("predictions", Assert.ThrowsExactly<ArgumentException>(() => ClassificationMetrics.Compute(["a", "b"], [0], [0, 1], [1, 0])).ParamName);
        Assert.AreEqual("labels", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ClassificationMetrics.Compute(["a", "b"], [2], [0], [1, 0])).ParamName);
        Assert.AreEqual("probabilities", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ClassificationMetrics.Compute(["a", "b"], [0], [0], [float.NaN, 0])).ParamName);
    }

    public sealed class BooleanScored
    {
        public bool Label { get; set; }

        public bool PredictedLabel { get; set; }

        [VectorType(2)]
        public float[] Score { get; set; } = [];
    }

    public sealed class KeyScored
    {
        [KeyType(3)]
        public uint Label { get; set; }

        [KeyType(3)]
        public uint PredictedLabel { get; set; }

        [VectorType(3)]
        public float[] Score { get; set; } = [];
    }

    /// <summary>Compares doubles within an absolute tolerance.</summary>
    private sealed class Tolerance(double tolerance) : System.Collections.IComparer
    {
        public int Compare(object? x, object? y) => Math.Abs((double)x! - (double)y!) <= tolerance ? 0 : 1;
    }
}
