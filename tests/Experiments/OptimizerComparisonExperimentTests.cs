using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Experiments;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Experiments.Tests;

[TestClass]
public sealed class OptimizerComparisonExperimentTests
{
    private static readonly TransformerConfig Tiny = new(layerCount: 1, headCount: 2, channels: 8, contextLength: 8, vocabularySize: 11);

    private static readonly PretrainingSetup Setup = new(Tiny, new LanguageModelTrainingOptions
    {
        BatchSize = 2, SequenceLength = 8, Steps = 24, EvaluationInterval = 8, EvaluationBatches = 1, Seed = 2,
    }) { FinalEvaluationBatches = 2 };

    private static int[] Tokens(int length, int offset = 0) => Enumerable.Range(offset, length).Select(index => (index * 7 + index / 11) % 11).ToArray();

    private static OptimizerComparisonOptions Options(params OptimizerCandidate[] candidates) => new(Setup, candidates) { WarmupSteps = 4 };

    [TestMethod]
    public void EveryRateOfEveryCandidateRunsAtEqualTokensUnderItsWsdSchedule()
    {
        var options = Options(OptimizerCandidate.AdamW([1e-3, 1e-2]), OptimizerCandidate.Signum([3e-3]), OptimizerCandidate.Focus([3e-3]));
        var result = OptimizerComparisonExperiment.Run(options, Tokens(300), Tokens(120, offset: 5));

        CollectionAssert.AreEqual(new[] { "AdamW", "AdamW", "Signum", "FOCUS" }, result.Runs.Select(run => run.Name).ToArray());
        CollectionAssert.AreEqual(new[] { 1e-3, 1e-2, 3e-3, 3e-3 }, result.Runs.Select(run => run.PeakLearningRate).ToArray());
        foreach (var run in result.Runs)
        {
            Assert.IsFalse(run.Diverged, run.Name);
            Assert.HasCount(24, run.History);
            var schedule = options.ScheduleFor(run.PeakLearningRate);
            CollectionAssert.AreEqual(Enumerable.Range(0, 24).Select(step => schedule.ValueAt(step)).ToArray(), run.History.Select(row => row.LearningRate).ToArray(), $"{run.Name} {run.PeakLearningRate}");
            Assert.AreEqual(0.25 * run.PeakLearningRate, run.History[0].LearningRate, 1e-15, "the first update of a 4-step warm-up runs at 1/4 of the peak");
            Assert.AreEqual(options.MinRatio * run.PeakLearningRate, run.History[^1].LearningRate, 1e-15, "the last update runs at the floor");
            Assert.IsGreaterThan(options.MinRatio * run.PeakLearningRate, run.History[^2].LearningRate, "and only the last");
            CollectionAssert.AreEqual(new long[] { 8, 16, 24 }, run.History.Where(row => row.ValidationLoss.HasValue).Select(row => row.Step).ToArray());
            Assert.IsTrue(run.FinalValidationLoss < Math.Log(11), $"{run.Name} learned nothing: {run.FinalValidationLoss}");
        }

        var adam = result.Runs.Take(2).ToArray();
        Assert.AreSame(adam.MinBy(run => run.FinalValidationLoss), result.Best[0]);
        Assert.AreSame(result.Best.MinBy(run => run.FinalValidationLoss), result.Winner);
        Assert.IsTrue(result.IsBestAtGridEdge("AdamW"), "a grid of two has its best at an edge");
        Assert.IsFalse(result.IsBestAtGridEdge("Signum"), "a grid of one has no edge to speak of");
    }

    [TestMethod]
    public void RunsAreIdenticalWhateverTheRunParallelism()
    {
        var options = Options(OptimizerCandidate.AdamW([3e-3]), OptimizerCandidate.Focus([1e-3, 3e-3]));
        var sequential = OptimizerComparisonExperiment.Run(options, Tokens(300), Tokens(120));
        var parallel = OptimizerComparisonExperiment.Run(options, Tokens(300), Tokens(120), new Parallelism(2));
        for (var index = 0; index < sequential.Runs.Count; index++)
        {
            CollectionAssert.AreEqual(sequential.Runs[index].History.ToArray(), parallel.Runs[index].History.ToArray());
            Assert.AreEqual(sequential.Runs[index].FinalValidationLoss, parallel.Runs[index].FinalValidationLoss);
        }
    }

    [TestMethod]
    public void ADivergedRunScoresInfinityAndIsNotTheBest()
    {
        var poisoned = new OptimizerCandidate("Poisoned", schedule => new Chain(new ScaleByLearningRate(schedule), new PoisonAfter(5)), [1e-3, 1e-2]);
        var result = OptimizerComparisonExperiment.Run(Options(OptimizerCandidate.AdamW([3e-3]), poisoned), Tokens(300), Tokens(120));

        var diverged = result.Runs.Where(run => run.Name == "Poisoned").ToArray();
        Assert.IsTrue(diverged.All(run => run.Diverged && run.DivergedAtStep == 6 && double.IsPositiveInfinity(run.FinalValidationLoss) && run.History.Count == 0));
        Assert.AreEqual("AdamW", result.Winner.Name);
        var table = OptimizerComparisonReport.MarkdownTable(result);
        StringAssert.Contains(table, "| Poisoned | 1e-3 (grid edge) | diverged |");
        StringAssert.Contains(table, "1e-2: diverged");
    }

    [TestMethod]
    public void BadOptionsAreRefusedBeforeAnyRun()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new OptimizerComparisonOptions(Setup, []));
        var twice = Assert.ThrowsExactly<ArgumentException>(() => new OptimizerComparisonOptions(Setup, [OptimizerCandidate.AdamW([1e-3]), OptimizerCandidate.AdamW([1e-2])]));
        StringAssert.Contains(twice.Message, "'AdamW'");
        var rate = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => OptimizerCandidate.Focus([1e-3, -1]));
        Assert.AreEqual("peakLearningRates", rate.ParamName);
        Assert.ThrowsExactly<ArgumentException>(() => OptimizerCandidate.Signum([]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Options(OptimizerCandidate.AdamW([1e-3])) with { MinRatio = 1.5 });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => OptimizerCandidate.For((PretrainingOptimizer)7, [1e-3]));

        // A warm-up that leaves no room for the decay is refused before training anything.
        var tooLong = Options(OptimizerCandidate.AdamW([1e-3])) with { WarmupSteps = 22 };
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => OptimizerComparisonExperiment.Run(tooLong, Tokens(300), Tokens(120)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new PretrainingSetup(Tiny, new LanguageModelTrainingOptions { SequenceLength = 9 }));
    }

    [TestMethod]
    public void ReportsHoldEveryStepAndTheBestRuns()
    {
        var result = OptimizerComparisonExperiment.Run(Options(OptimizerCandidate.AdamW([1e-3, 3e-3]), OptimizerCandidate.Signum([1e-3])), Tokens(300), Tokens(120));

        var curves = OptimizerComparisonReport.CurvesCsv(result).TrimEnd('\n').Split('\n');
        Assert.AreEqual("Optimizer,PeakLearningRate,Step,LearningRate,TrainingLoss,ValidationLoss", curves[0]);
        Assert.HasCount(1 + 3 * 24, curves);
        StringAssert.StartsWith(curves[1], "AdamW,0.001,1,0.00025,");
        Assert.IsTrue(curves[1].EndsWith(',') && !curves[8].EndsWith(','), "validation only where evaluated");

        var summary = OptimizerComparisonReport.SummaryCsv(result).TrimEnd('\n').Split('\n');
        Assert.HasCount(4, summary);
        Assert.AreEqual(2, summary.Count(line => line.Contains(",True,")), "one best per optimizer");

        var table = OptimizerComparisonReport.MarkdownTable(result).TrimEnd('\n').Split('\n');
        Assert.HasCount(4, table);
        StringAssert.Contains(table[2], "| - |", "the winner comes first");
        Assert.AreEqual(1, table.Count(line => line.StartsWith("| AdamW", StringComparison.Ordinal) && line.Contains("**")));

        using var chart = OptimizerComparisonReport.ValidationChart(result);
        var legend = PlotContents.LegendTexts(chart);
        Assert.HasCount(2, legend);
        StringAssert.StartsWith(legend[1], "Signum (lr 1e-3)");
        using var training = OptimizerComparisonReport.TrainingChart(result, window: 5);
        var windows = training.GetPlottables<ScottPlot.Plottables.Scatter>().Select(line => line.Data.GetScatterPoints().Count).ToArray();
        CollectionAssert.AreEqual(new[] { 24 / 5, 24 / 5 }, windows, "one point per whole window of 5 of the 24 steps");
    }

    [TestMethod]
    [DataRow(3e-4, "3e-4")]
    [DataRow(1e-3, "1e-3")]
    [DataRow(2.5e-3, "2.5e-3")]
    [DataRow(0.01, "1e-2")]
    [DataRow(0.09999999999, "1e-1")]
    public void RatesPrintShort(double rate, string expected) => Assert.AreEqual(expected, OptimizerComparisonReport.Rate(rate));

    /// <summary>Writes NaN into the parameters after a number of steps, to make the loss diverge.</summary>
    private sealed class PoisonAfter(long healthySteps) : IGradientTransform
    {
        public TransformState Init(ParameterArena arena) => new EmptyState(nameof(PoisonAfter));

        public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
        {
            if (context.Step > healthySteps) updates.Fill(float.NaN);
        }
    }
}
