using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Experiments;
using Pipelines.Components.Models;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Training;

namespace Pipelines.Experiments.Tests;

[TestClass]
public sealed class SparsePretrainingExperimentTests
{
    private const long Steps = 40;
    private static readonly TransformerConfig Dense = new(layerCount: 3, headCount: 2, channels: 16, contextLength: 16, vocabularySize: 11);
    private static readonly TransformerConfig Bigger = new(layerCount: 4, headCount: 2, channels: 16, contextLength: 16, vocabularySize: 11);

    internal static int[] PatternTokens(int length, int offset = 0) =>
        Enumerable.Range(offset, length).Select(index => (index * 7 + index / 11) % 11).ToArray();

    internal static SparsePretrainingRunOptions DenseRun(long steps = Steps) => new()
    {
        Name = "dense", Model = Dense,
        Training = new LanguageModelTrainingOptions { BatchSize = 3, SequenceLength = 12, Steps = steps, EvaluationInterval = 10, EvaluationBatches = 2, Seed = 4 },
        PeakLearningRate = 1e-2, FinalEvaluationBatches = 4,
    };

    [TestMethod]
    public void ParameterCountsFollowTheGptLayout()
    {
        // V C + T C embeddings; per block 12 C^2 weights + 13 C biases and norms; 2 C final norm.
        var counts = SparsePretrainingExperiment.CountParameters(new TransformerConfig(3, 2, 8, 5, 7));
        Assert.AreEqual(7 * 8 + 5 * 8 + 3 * (12 * 64 + 13 * 8) + 2 * 8, counts.Total);
        Assert.AreEqual(3 * 12 * 64, counts.Prunable);
        Assert.AreEqual(7 * 8 + 5 * 8, counts.Embedding);
        Assert.AreEqual(counts.Total - counts.Prunable, counts.Fixed);
    }

    [TestMethod]
    public void DenseRunKeepsEveryParameterAndLearns()
    {
        var result = SparsePretrainingExperiment.Run(DenseRun(), PatternTokens(600), PatternTokens(200, 5));
        var summary = result.Summary;
        var total = SparsePretrainingExperiment.CountParameters(Dense).Total;
        Assert.AreEqual("dense", summary.Schedule);
        Assert.AreEqual(total, summary.FinalNonZeroCount);
        Assert.AreEqual(total, summary.AverageParameterCount);
        Assert.AreEqual(Steps * 36, summary.Tokens);
        Assert.AreEqual((int)Steps, result.Curve.Count);
        Assert.IsTrue(result.Curve.All(step => step.NonZeroCount == total && step.OverallSparsity == 0 && step.PrunableSparsity == 0));
        Assert.IsTrue(summary.FinalValidationLoss < 0.7 * Math.Log(11), $"validation loss {summary.FinalValidationLoss:F3} vs uniform {Math.Log(11):F3}");
        Assert.IsNull(result.Mask);
        Assert.AreEqual(0, result.Events.Count);
        Assert.IsTrue(result.Layers.All(layer => !layer.IsPrunable && layer.Sparsity == 0));
    }

    [TestMethod]
    public void MatchedSparseRunReachesTheDenseNbarAndEndsSmaller()
    {
        var schedules = SparsePretrainingExperiment.StandardSchedules(Steps, pruningInterval: 2);
        var runs = SparsePretrainingExperiment.MatchedComparison(DenseRun(), Bigger, schedules);
        CollectionAssert.AreEqual(new[] { "dense", "sparse-25-75", "early-0-50", "late-50-100" }, runs.Select(run => run.Name).ToArray());
        Assert.IsNull(runs[0].Pruning);
        Assert.IsTrue(runs.Skip(1).All(run => run.Model == Bigger && run.Pruning!.TotalSteps == Steps));
        var finalSparsities = runs.Skip(1).Select(run => run.Pruning!.FinalSparsity).ToArray();
        Assert.IsTrue(finalSparsities[1] < finalSparsities[0] && finalSparsities[0] < finalSparsities[2], "early needs the least final sparsity, late the most");

        var dense = SparsePretrainingExperiment.CountParameters(Dense);
        var sparse = SparsePretrainingExperiment.CountParameters(Bigger);
        var result = SparsePretrainingExperiment.Run(runs[1], PatternTokens(600), PatternTokens(200, 5));
        var summary = result.Summary;
        // Each layer's pruned count is rounded, so every N(t), and Nbar, is within half a parameter per prunable layer of the plan.
        var prunableLayers = 4 * Bigger.LayerCount;
        Assert.AreEqual(dense.Total, summary.AverageParameterCount, 0.5 * prunableLayers);
        Assert.AreEqual(summary.AverageParameterCount, summary.AverageParameterCountOverTokens, 1e-9);
        Assert.AreEqual(summary.AverageParameterCount, result.Curve[^1].AverageParameterCount, 1e-9);
        Assert.IsTrue(summary.FinalNonZeroCount < dense.Total, "the sparse model ends smaller than the dense one");
        Assert.AreEqual(sparse.Total, summary.ParameterCount);
        Assert.AreEqual(runs[1].Pruning!.FinalSparsity, summary.FinalPrunableSparsity, 0.5 * prunableLayers / sparse.Prunable);
        Assert.AreEqual("Cubic 25%-75%", summary.Schedule);
        Assert.AreEqual(sparse.Total, result.Curve[9].NonZeroCount, "no pruning before 25% of the run");
        Assert.AreEqual(summary.FinalNonZeroCount, result.Curve[^1].NonZeroCount);
        Assert.IsTrue(result.Layers.Where(layer => layer.IsPrunable).All(layer => Math.Abs(layer.Sparsity - summary.FinalPrunableSparsity) < 0.01));
        Assert.AreEqual(summary.FinalNonZeroCount, result.Mask!.NonZeroCount);
        Assert.IsTrue(result.Snapshots.Count > 0 && result.Snapshots.Count <= result.Events.Count);
    }

    [TestMethod]
    public void RunsAreIndependentOfConcurrencyAndReportProgress()
    {
        var runs = SparsePretrainingExperiment.MatchedComparison(DenseRun(20), Bigger, SparsePretrainingExperiment.StandardSchedules(20, 2).Take(1).ToArray());
        var reports = new List<SparsePretrainingProgress>();
        var sequential = SparsePretrainingExperiment.RunAll(runs, PatternTokens(600), PatternTokens(200, 5), 1, new Recorder(reports));
        var concurrent = SparsePretrainingExperiment.RunAll(runs, PatternTokens(600), PatternTokens(200, 5), 2);
        for (var index = 0; index < runs.Count; index++)
        {
            Assert.AreEqual(sequential[index].Summary with { Seconds = 0 }, concurrent[index].Summary with { Seconds = 0 });
            CollectionAssert.AreEqual(sequential[index].Curve.ToArray(), concurrent[index].Curve.ToArray());
        }

        Assert.AreEqual(40, reports.Count, "one report per step of each run");
        var last = reports.Last(report => report.Run == "sparse-25-75");
        Assert.AreEqual((1, 2, 20L), (last.RunIndex, last.RunCount, last.Step));
        Assert.AreEqual(sequential[1].Summary.AverageParameterCount, last.AverageParameterCount, 1e-9);
        Assert.AreEqual(sequential[1].Summary.FinalNonZeroCount, last.NonZeroCount);
        Assert.IsTrue(last.OverallSparsity > 0);
    }

    [TestMethod]
    public void CancellationStopsTheRuns()
    {
        using var cancellation = new CancellationTokenSource();
        var progress = new Recorder([], report => { if (report.Step == 3) cancellation.Cancel(); });
        Assert.ThrowsExactly<OperationCanceledException>(() =>
            SparsePretrainingExperiment.RunAll([DenseRun()], PatternTokens(600), PatternTokens(200), 1, progress, cancellation.Token));
    }

    [TestMethod]
    public void UnreachableTargetsAndBadOptionsAreRejected()
    {
        // A model ten times too big cannot reach the dense Nbar when pruning only over the last half of the run.
        var huge = new TransformerConfig(layerCount: 8, headCount: 2, channels: 32, contextLength: 16, vocabularySize: 11);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            SparsePretrainingExperiment.MatchedComparison(DenseRun(), huge, SparsePretrainingExperiment.StandardSchedules(Steps, 2)));
        var duplicate = Assert.ThrowsExactly<ArgumentException>(() => SparsePretrainingExperiment.MatchedComparison(DenseRun(), Bigger,
            [new NamedPruningPlan("dense", new PruningOptions { TotalSteps = Steps, PruningInterval = 2 })]));
        Assert.AreEqual("plans", duplicate.ParamName);

        var mismatch = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => (DenseRun() with { Pruning = new PruningOptions { TotalSteps = Steps + 1 } }).Validate());
        Assert.AreEqual("Pruning", mismatch.ParamName);
        Assert.AreEqual("Name", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => (DenseRun() with { Name = "a b" }).Validate()).ParamName);
        Assert.AreEqual("PeakLearningRate", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => (DenseRun() with { PeakLearningRate = double.NaN }).Validate()).ParamName);
        Assert.AreEqual("WarmupFraction", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => (DenseRun() with { WarmupFraction = 1 }).Validate()).ParamName);
        Assert.AreEqual("ThreadCount", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => (DenseRun() with { ThreadCount = 0 }).Validate()).ParamName);
        Assert.AreEqual("concurrentRuns", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            SparsePretrainingExperiment.RunAll([DenseRun()], PatternTokens(600), PatternTokens(200), 0)).ParamName);
        Assert.AreEqual("OneShot at 25%", SparsePretrainingExperiment.DescribeSchedule(new PruningOptions { TotalSteps = 8, Schedule = SparsityScheduleKind.OneShot }));
    }

    /// <summary>Records reports on the calling thread (thread-safe: runs may report concurrently).</summary>
    private sealed class Recorder(List<SparsePretrainingProgress> reports, Action<SparsePretrainingProgress>? then = null) : IProgress<SparsePretrainingProgress>
    {
        public void Report(SparsePretrainingProgress value)
        {
            lock (reports) reports.Add(value);
            then?.Invoke(value);
        }
    }
}
