using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Models;
using Pipelines.Components.Schedules;
using Pipelines.Components.Training;

namespace Pipelines.Experiments.Tests;

[TestClass]
public sealed class ScheduleComparisonExperimentTests
{
    private static readonly TransformerConfig Tiny = new(layerCount: 1, headCount: 2, channels: 8, contextLength: 8, vocabularySize: 11);

    private static readonly PretrainingSetup Setup = new(Tiny, new LanguageModelTrainingOptions
    {
        BatchSize = 2, SequenceLength = 8, Steps = 1, EvaluationInterval = 5, EvaluationBatches = 1, Seed = 2,
    }) { FinalEvaluationBatches = 2 };

    private static int[] Tokens(int length, int offset = 0) => Enumerable.Range(offset, length).Select(index => (index * 7 + index / 11) % 11).ToArray();

    private static ScheduleComparisonOptions QuickOptions() => new(Setup, [20, 40, 80]) { Seeds = 2, PeakLearningRates = [3e-3, 1e-2] };

    [TestMethod]
    public void AQuickRunProducesEveryTableAndChart()
    {
        var options = QuickOptions();
        var result = ScheduleComparisonExperiment.Run(options, Tokens(400), Tokens(120, offset: 5), threads: 2);

        Assert.HasCount(2 * 3 + 2, result.Tuning, "cosine at every budget and rate, WSD at the first budget and every rate");
        // Per seed: cosine, WSD 10%, WSD 20% and WSD-S at each of 3 budgets, and two more decay shapes at the middle one.
        Assert.HasCount(2 * (3 * 4 + 2), result.Runs);
        foreach (var run in result.Runs)
        {
            Assert.AreEqual(run.Budget, run.History[^1].Step, $"{run.Schedule} at {run.Budget} trained exactly its budget");
            Assert.IsTrue(double.IsFinite(run.FinalValidationLoss) && run.FinalValidationLoss < Math.Log(11), $"{run.Schedule} learned nothing");
            Assert.AreEqual(run.LearningRates.ValueAt(run.Budget - 1), run.History[^1].LearningRate, 1e-15);
        }

        // Equal compute: every model's last step runs at the floor and every branch shares its stable phase with the longest.
        var wsd = result.Runs.Where(run => run.Schedule == "WSD linear 20%" && run.Seed == 1).OrderBy(run => run.Budget).ToArray();
        Assert.HasCount(3, wsd);
        CollectionAssert.AreEqual(wsd[2].History.Take(16).Select(row => row.TrainingLoss).ToArray(), wsd[0].History.Take(16).Select(row => row.TrainingLoss).ToArray(),
            "the branch to 20 steps decays from the same stable run as the one to 80");
        var wsds = result.Runs.Single(run => run.Schedule == "WSD-S 20%" && run.Seed == 1 && run.Budget == 20);
        Assert.AreEqual(wsd[0].FinalValidationLoss, wsds.FinalValidationLoss, "WSD-S's first cycle is the WSD run to the first budget");
        var wsdsToTheEnd = result.Runs.Single(run => run.Schedule == "WSD-S 20%" && run.Seed == 1 && run.Budget == 80);
        Assert.AreEqual(0, wsdsToTheEnd.History[19].LearningRate, "the first cycle ends at the floor");
        Assert.AreEqual(wsds.PeakLearningRate, wsdsToTheEnd.History[20].LearningRate, "WSD-S resumes at the peak after the first budget");

        Assert.HasCount(3 * 4 + 2, result.Summaries);
        Assert.IsTrue(result.Summaries.All(summary => summary.Losses.Count == 2));
        Assert.IsTrue(result.Law.Points.Any(point => point.Fitted) && result.Law.Points.Any(point => !point.Fitted));
        Assert.IsTrue(result.Law.Errors.All(error => double.IsFinite(error.MeanAbsoluteRelativeError)));

        var directory = Path.Combine(Path.GetTempPath(), "schedule-comparison-" + Guid.NewGuid().ToString("N"));
        try
        {
            var paths = ScheduleComparisonReport.Write(result, directory);
            Assert.IsTrue(paths.All(path => new FileInfo(path).Length > 0), "every file written");
            Assert.HasCount(1 + 28, File.ReadAllLines(Path.Combine(directory, "schedule-finals.csv")));
            var markdown = File.ReadAllText(Path.Combine(directory, "schedules.md"));
            foreach (var text in new[] { "| cosine |", "| WSD linear 10% |", "| WSD-S 20% |", "T = 80", "| 1-sqrt 20% |", "| cosine 20% |", "exceeds the seed spread", "predicted" })
                StringAssert.Contains(markdown, text);
            using var curves = ScheduleComparisonReport.CurvesChart(result);
            Assert.HasCount(3 + 3 + 1, PlotContents.LegendTexts(curves), "the stable run with its decays, cosine per budget, WSD-S");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void BadOptionsNameTheValue()
    {
        var unmeasured = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ScheduleComparisonOptions(Setup, [20, 42, 80]));
        Assert.AreEqual("budgets", unmeasured.ParamName);
        StringAssert.Contains(unmeasured.Message, "42 is not a multiple of the evaluation interval 5");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ScheduleComparisonOptions(Setup, [40, 20, 80]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => QuickOptions() with { PeakLearningRates = [1e-3, -1] });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => QuickOptions() with { DecayFractions = [0.2, 1.0] });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => QuickOptions() with { Seeds = 0 });
    }

    [TestMethod]
    public void SchedulesShareTheWarmupAndEndAtTheFloorOfTheirBudget()
    {
        var options = QuickOptions();
        Assert.AreEqual(2, options.WarmupSteps);
        Assert.AreEqual(40, options.ShapeBudget);
        Assert.AreEqual(4, ScheduleComparisonOptions.DecayStepsOf(40, 0.1));
        var wsd = options.Wsd(1e-2, 40, 0.2, DecayShape.OneMinusSqrt);
        Assert.AreEqual(1e-2, wsd.ValueAt(31));
        Assert.IsLessThan(1e-2, wsd.ValueAt(32));
        Assert.AreEqual(0, wsd.ValueAt(39));
        Assert.AreEqual(0, options.Cosine(1e-2, 40).ValueAt(39));
        Assert.AreEqual(options.Cosine(1e-2, 40).ValueAt(1), wsd.ValueAt(1), "the same warm-up");
        Assert.AreEqual("WSD 1-sqrt 20%", ScheduleComparisonExperiment.WsdName(DecayShape.OneMinusSqrt, 0.2));
    }
}
