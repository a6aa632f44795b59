using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Experiments;
using Pipelines.Components.Models;
using Pipelines.Components.Sparsity;

namespace Pipelines.Experiments.Tests;

[TestClass]
public sealed class SparsePretrainingGridTests
{
    private static readonly TransformerConfig[] Models =
    [
        new(layerCount: 1, headCount: 2, channels: 16, contextLength: 16, vocabularySize: 11),
        new(layerCount: 2, headCount: 2, channels: 16, contextLength: 16, vocabularySize: 11),
        new(layerCount: 3, headCount: 2, channels: 16, contextLength: 16, vocabularySize: 11),
    ];

    /// <summary>16 starts around the synthetic law instead of the default 108, to keep the test fast.</summary>
    private static readonly ScalingLawFitOptions FewStarts = new() { LogIrreducibleLossStarts = [0.5], LogCoefficientStarts = [4, 8], ExponentStarts = [0.3, 0.6] };

    private static SparsePretrainingGridOptions Options(params long[] budgets) =>
        new() { Models = Models, StepBudgets = budgets, Base = SparsePretrainingExperimentTests.DenseRun(), PruningIntervalFraction = 0.05 };

    [TestMethod]
    public void PlanPairsEachSparseModelWithTheDenseSizeBeforeIt()
    {
        var plan = SparsePretrainingGrid.Plan(Options(20, 40));
        CollectionAssert.AreEqual(new[]
        {
            "dense-L1-C16-D720", "dense-L2-C16-D720", "sparse-L2-C16-D720", "dense-L3-C16-D720", "sparse-L3-C16-D720",
            "dense-L1-C16-D1440", "dense-L2-C16-D1440", "sparse-L2-C16-D1440", "dense-L3-C16-D1440", "sparse-L3-C16-D1440",
        }, plan.Select(run => run.Name).ToArray());
        foreach (var run in plan.Where(run => run.IsSparse))
        {
            var smaller = Models[run.Model.LayerCount - 2];
            var counts = SparsePretrainingExperiment.CountParameters(run.Model);
            var meanSparsity = SparsityBudget.MeanAppliedSparsity(run.Pruning!.CreateSchedule());
            Assert.AreEqual(SparsePretrainingExperiment.CountParameters(smaller).Total,
                SparsityBudget.ExpectedAverageParameterCount(counts.Prunable, counts.Fixed, meanSparsity), 1e-6, run.Name);
            Assert.AreEqual(run.Training.Steps, run.Pruning.TotalSteps);
            Assert.AreEqual(Math.Max(1, (long)Math.Round(0.05 * run.Training.Steps)), run.Pruning.PruningInterval);
        }
    }

    [TestMethod]
    public void GridRunsTrainAndCarryTheirCounts()
    {
        var runs = SparsePretrainingGrid.Run(Options(12) with { Models = Models[..2] }, SparsePretrainingExperimentTests.PatternTokens(400),
            SparsePretrainingExperimentTests.PatternTokens(200, 3), concurrentRuns: 2);
        Assert.AreEqual(3, runs.Count);
        var (small, big, sparse) = (runs[0], runs[1], runs[2]);
        Assert.IsTrue(!small.IsSparse && !big.IsSparse && sparse.IsSparse);
        Assert.AreEqual(small.ParameterCount, sparse.AverageParameterCount, 0.5 * 4 * 2);
        Assert.IsTrue(sparse.FinalNonZeroCount < small.ParameterCount);
        Assert.AreEqual(big.ParameterCount, big.AverageParameterCount);
        Assert.AreEqual(12 * 36, sparse.Tokens);
        Assert.AreEqual((11 + 16) * 16, sparse.EmbeddingCount);
        Assert.IsTrue(runs.All(run => double.IsFinite(run.FinalValidationLoss) && run.FinalValidationLoss > 0));
        var withoutEmbeddings = sparse.ToScalingRun(countEmbeddings: false);
        Assert.AreEqual(sparse.AverageParameterCount - sparse.EmbeddingCount, withoutEmbeddings.AverageParameterCount);
        Assert.AreEqual(sparse.FinalNonZeroCount - sparse.EmbeddingCount, withoutEmbeddings.FinalParameterCount);
    }

    [TestMethod]
    public void HeldOutSparseRunsFollowTheLawInNbarNotInN()
    {
        // Synthetic grid whose losses follow L(Nbar, D) exactly: the law in Nbar predicts the sparse runs, the law in N misses.
        var law = new ScalingLawParameters(1.8, 400, 0.35, 900, 0.4);
        var runs = SyntheticGrid(law);
        var comparison = SparsePretrainingGrid.Evaluate(runs, ScalingHoldOut.SparseRuns, fitOptions: FewStarts);
        Assert.AreEqual((12, 9), (comparison.FittedRuns, comparison.HeldOutRuns));
        Assert.IsTrue(comparison.Average.FitError < 2e-3, $"fit {comparison.Average.FitError:P3}");
        Assert.IsTrue(comparison.Average.HeldOutError < 2e-3, $"Nbar held-out {comparison.Average.HeldOutError:P3}");
        Assert.IsTrue(comparison.Final.HeldOutError > 5 * comparison.Average.HeldOutError + 1e-3, $"N held-out {comparison.Final.HeldOutError:P3}");
        Assert.IsTrue(comparison.Final.Predictions.All(prediction => prediction.Predicted > prediction.Actual), "a smaller final N predicts a higher loss");
        Assert.AreEqual(9, comparison.Average.Predictions.Count);

        var byBudget = SparsePretrainingGrid.Evaluate(runs, ScalingHoldOut.LargestBudget, countEmbeddings: true, fitOptions: FewStarts);
        Assert.AreEqual((14, 7), (byBudget.FittedRuns, byBudget.HeldOutRuns));
        Assert.IsTrue(byBudget.Average.HeldOutError < byBudget.Final.HeldOutError);
    }

    [TestMethod]
    public void BadGridsAreRejected()
    {
        Assert.AreEqual("Models", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SparsePretrainingGrid.Plan(Options(10) with { Models = [Models[1], Models[0]] })).ParamName);
        Assert.AreEqual("Models", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SparsePretrainingGrid.Plan(Options(10) with { Models = [Models[0]] })).ParamName);
        Assert.AreEqual("StepBudgets", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SparsePretrainingGrid.Plan(Options(10, 10))).ParamName);
        Assert.AreEqual("StepBudgets", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SparsePretrainingGrid.Plan(Options(0))).ParamName);
        Assert.AreEqual("PruningIntervalFraction",
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SparsePretrainingGrid.Plan(Options(10) with { PruningIntervalFraction = 0 })).ParamName);
        var law = new ScalingLawParameters(1.8, 400, 0.35, 900, 0.4);
        var denseOnly = SyntheticGrid(law).Where(run => !run.IsSparse).ToArray();
        Assert.ThrowsExactly<ArgumentException>(() => SparsePretrainingGrid.Evaluate(denseOnly, ScalingHoldOut.SparseRuns));
        Assert.ThrowsExactly<ArgumentException>(() => SparsePretrainingGrid.Evaluate(SyntheticGrid(law)[..6], ScalingHoldOut.LargestBudget));
    }

    /// <summary>Four dense sizes and three sparse runs per budget (Nbar of the size before, final N 40% below it), three budgets.</summary>
    private static SparsePretrainingGridRun[] SyntheticGrid(ScalingLawParameters law)
    {
        var sizes = new long[] { 20_000, 40_000, 80_000, 160_000 };
        var runs = new List<SparsePretrainingGridRun>();
        foreach (var tokens in new long[] { 100_000, 200_000, 400_000 })
        {
            for (var index = 0; index < sizes.Length; index++)
            {
                runs.Add(new SparsePretrainingGridRun($"dense-{index}-{tokens}", index + 1, 16, false, 0, tokens / 100, tokens, sizes[index], 1000, sizes[index],
                    sizes[index], law.Predict(sizes[index], tokens)));
                if (index == 0) continue;
                var average = (double)sizes[index - 1];
                runs.Add(new SparsePretrainingGridRun($"sparse-{index}-{tokens}", index + 1, 16, true, 0.6, tokens / 100, tokens, sizes[index], 1000,
                    (long)(0.6 * average), average, law.Predict(average, tokens)));
            }
        }

        return [.. runs];
    }
}
