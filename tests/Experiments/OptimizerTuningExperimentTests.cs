using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Training;

namespace Pipelines.Experiments.Tests;

[TestClass]
public sealed class OptimizerTuningExperimentTests
{
    private static readonly TransformerConfig Tiny = new(layerCount: 1, headCount: 2, channels: 8, contextLength: 8, vocabularySize: 11);
    private static readonly TransformerConfig Wider = new(layerCount: 1, headCount: 2, channels: 12, contextLength: 8, vocabularySize: 11);

    private static readonly PretrainingSetup Setup = new(Tiny, new LanguageModelTrainingOptions
    {
        BatchSize = 2, SequenceLength = 8, Steps = 20, EvaluationInterval = 5, EvaluationBatches = 1, Seed = 2,
    }) { FinalEvaluationBatches = 2 };

    private static int[] Tokens(int length, int offset = 0) => Enumerable.Range(offset, length).Select(index => (index * 7 + index / 11) % 11).ToArray();

    [TestMethod]
    public void EverySearchStartsFromItsAnchorAndDrawsDistinctSettings()
    {
        var space = new OptimizerSearchSpace();
        var focus = space.Sample(PretrainingOptimizer.Focus, 8, seed: 5);
        Assert.AreEqual(new OptimizerSetting(PretrainingOptimizer.Focus, 6e-4, 0.9, 0.99, 0.2, 0.2, FocusWeightDecayPlacement.TowardEmaBeforeStep), focus[0],
            "the paper's GPT-2 settings are among FOCUS's candidates");
        Assert.HasCount(8, focus.Distinct().ToArray());
        CollectionAssert.AreEqual(focus.ToArray(), space.Sample(PretrainingOptimizer.Focus, 8, seed: 5).ToArray(), "the same seed draws the same settings");
        CollectionAssert.AreNotEqual(focus.ToArray(), space.Sample(PretrainingOptimizer.Focus, 8, seed: 6).ToArray());
        Assert.IsTrue(space.Sample(PretrainingOptimizer.AdamW, 8, 5).All(setting => setting.Optimizer == PretrainingOptimizer.AdamW && space.AdamWRates.Contains(setting.PeakLearningRate)));
        Assert.AreEqual(0.95, space.Sample(PretrainingOptimizer.AdamW, 1, 5).Single().Beta2, "nanoGPT's b2 anchors AdamW");

        var tooMany = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => space.Sample(PretrainingOptimizer.Signum, 55, 5));
        Assert.AreEqual("trials", tooMany.ParamName);
        StringAssert.Contains(tooMany.Message, "54 distinct settings");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new OptimizerTuningOptions(Setup, [ModelSize.Of(Tiny)]) { Trials = 0 });
        Assert.ThrowsExactly<ArgumentException>(() => new OptimizerTuningOptions(Setup, [ModelSize.Of(Tiny), ModelSize.Of(Tiny)]));
    }

    [TestMethod]
    public void TheSettingReachesTheOptimizer()
    {
        // FOCUS with gamma 0 and no decay is Signum: both runs must then match step for step; with gamma > 0 they must not.
        var options = new OptimizerTuningOptions(Setup, [ModelSize.Of(Tiny)]);
        PretrainingRunResult Train(OptimizerSetting setting) => PretrainingRun.Run(setting.Name, setting.PeakLearningRate, Setup,
            setting.Create(options.ScheduleFor(setting.PeakLearningRate)), Tokens(300), Tokens(120), Components.Compute.Parallelism.Sequential);
        var signum = Train(new OptimizerSetting(PretrainingOptimizer.Signum, 1e-2, 0.9, 0, 0));
        var focusWithoutAttraction = Train(new OptimizerSetting(PretrainingOptimizer.Focus, 1e-2, 0.9, 0.99, 0, Gamma: 0));
        var focus = Train(new OptimizerSetting(PretrainingOptimizer.Focus, 1e-2, 0.9, 0.99, 0, Gamma: 0.4));
        CollectionAssert.AreEqual(signum.History.Select(row => row.TrainingLoss).ToArray(), focusWithoutAttraction.History.Select(row => row.TrainingLoss).ToArray());
        CollectionAssert.AreNotEqual(signum.History.Select(row => row.TrainingLoss).ToArray(), focus.History.Select(row => row.TrainingLoss).ToArray());
    }

    [TestMethod]
    public void AQuickRunProducesEveryTableAndChart()
    {
        var options = new OptimizerTuningOptions(Setup, [ModelSize.Of(Tiny), ModelSize.Of(Wider)]) { Trials = 2, Seeds = 2, TimingSteps = 2 };
        var result = OptimizerTuningExperiment.Run(options, Tokens(300), Tokens(120, offset: 5), threads: 2);

        Assert.HasCount(3 * 2, result.Tuning);
        Assert.HasCount(3, result.Best);
        Assert.HasCount(3 * 2 * 2, result.Confirmations);
        Assert.IsTrue(result.Confirmations.All(run => run.Seed is 1 or 2 && run.Run.History.Count == 20));
        Assert.HasCount(3 * 2, result.Summaries);
        Assert.IsTrue(result.Summaries.All(summary => summary.Losses.Count == 2));
        Assert.HasCount(2 * 2, result.Gaps, "per size, the winner against the two others");
        Assert.HasCount(3, result.Timings);
        Assert.IsTrue(result.Timings.All(timing => timing.SecondsPerStep > timing.UpdateSecondsPerStep && timing.UpdateSecondsPerStep > 0));
        foreach (var optimizer in options.Optimizers)
        {
            var trials = result.Tuning.Where(trial => trial.Setting.Optimizer == optimizer).ToArray();
            Assert.AreEqual(trials.MinBy(trial => trial.Run.FinalValidationLoss)!.Setting, result.Best.Single(setting => setting.Optimizer == optimizer));
        }

        var directory = Path.Combine(Path.GetTempPath(), "optimizer-tuning-" + Guid.NewGuid().ToString("N"));
        try
        {
            var paths = OptimizerTuningReport.Write(result, directory);
            Assert.IsTrue(paths.All(path => new FileInfo(path).Length > 0), "every file written");
            Assert.HasCount(1 + 6, File.ReadAllLines(Path.Combine(directory, "optimizer-tuning.csv")));
            Assert.HasCount(1 + 12, File.ReadAllLines(Path.Combine(directory, "optimizer-seeds.csv")));
            Assert.HasCount(1 + 12 * 4, File.ReadAllLines(Path.Combine(directory, "optimizer-curves.csv")), "four validation points a run");
            var markdown = File.ReadAllText(Path.Combine(directory, "optimizers.md"));
            foreach (var name in new[] { "AdamW", "Signum", "FOCUS", "1x8", "1x12", "exceeds the seed spread", "ms per step" }) StringAssert.Contains(markdown, name);
            using var chart = OptimizerTuningReport.LossChart(result);
            Assert.HasCount(6, PlotContents.LegendTexts(chart), "one line per optimizer and size");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void AGapExceedsTheSeedSpreadOnlyWhenEverySeedAgreesAndTheMeanStandsOut()
    {
        Assert.IsTrue(new SeedGap("s", "a", "b", [0.10, 0.12, 0.11]).ExceedsSeedSpread);
        Assert.IsFalse(new SeedGap("s", "a", "b", [0.10, -0.01, 0.11]).ExceedsSeedSpread, "one seed disagrees");
        Assert.IsFalse(new SeedGap("s", "a", "b", [0.001, 0.2, 0.001]).ExceedsSeedSpread, "mean 0.067, standard error 0.066");
        Assert.IsFalse(new SeedGap("s", "a", "b", [0.1]).ExceedsSeedSpread, "one seed has no spread to exceed");
    }
}
