using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Experiments;
using Pipelines.Components.Models;
using Pipelines.Components.Schedules;
using Pipelines.Components.Training;

namespace Pipelines.Experiments.Tests;

[TestClass]
public sealed class LossLawExperimentTests
{
    private static readonly TransformerConfig Tiny = new(layerCount: 1, headCount: 2, channels: 8, contextLength: 8, vocabularySize: 11);

    private static LossLawExperimentOptions Options(long steps, int evaluationInterval, double peak) =>
        new(new PretrainingSetup(Tiny, new LanguageModelTrainingOptions
        {
            BatchSize = 2, SequenceLength = 8, Steps = steps, EvaluationInterval = evaluationInterval, EvaluationBatches = 1, Seed = 2,
        }) { FinalEvaluationBatches = 2 }, peak);

    /// <summary>A run whose validation losses follow the law exactly (measured after s updates = the law at step s - 1).</summary>
    private static PretrainingRunResult LawRun(string name, ISchedule schedule, LossLawExperimentOptions options, LossLawParameters law)
    {
        var steps = options.Setup.Training.Steps;
        var lawSteps = Enumerable.Range(0, (int)steps).Select(step => (long)step).ToArray();
        var losses = AnnealingLossLaw.Predict(law, schedule, lawSteps, options.Areas);
        var interval = options.Setup.Training.EvaluationInterval;
        var history = lawSteps.Select(step => new StepMetrics(step + 1, losses[step] + 0.1, schedule.ValueAt(step),
            (step + 1) % interval == 0 ? losses[step] : null)).ToArray();
        return new PretrainingRunResult(name, options.PeakLearningRate, history, losses[^1], null, TimeSpan.Zero);
    }

    [TestMethod]
    public void CurvesThatFollowTheLawArePredictedExactly()
    {
        // Steps of 1e-2 over 600 steps: S1 reaches about 6; lambda 0.99 gives the decays a visible annealing area.
        var options = Options(600, 10, 1e-2) with { MomentumDecay = 0.99, WarmupSteps = 20, FirstFittedStep = 40 };
        var law = new LossLawParameters(L0: 2.0, A: 1.5, Alpha: 0.6, C: 3.0);
        var result = LossLawExperiment.Analyse(options,
            LawRun("constant", options.ConstantSchedule, options, law),
            LawRun("cosine", options.CosineSchedule, options, law),
            LawRun("WSD", options.WsdSchedule, options, law));

        var fitted = result.Fit.Parameters;
        Assert.AreEqual(law.L0, fitted.L0, 0.01, $"{fitted}");
        Assert.AreEqual(law.A, fitted.A, 0.01, $"{fitted}");
        Assert.AreEqual(law.Alpha, fitted.Alpha, 0.01, $"{fitted}");
        Assert.AreEqual(law.C, fitted.C, 0.03, $"{fitted}");
        Assert.IsLessThan(1e-4, result.WsdMeanAbsoluteRelativeError);
        Assert.IsLessThan(1e-4, result.WsdMaximumAbsoluteRelativeError);

        // Points from step 40 on, every 10 steps, for each run; WSD points are predicted, not fitted.
        Assert.HasCount(3 * 57, result.Points);
        Assert.AreEqual(40, result.Points[0].Step);
        Assert.IsTrue(result.Points.Where(point => point.Schedule == "WSD").All(point => !point.Fitted));
        Assert.AreEqual(options.WsdSchedule.ValueAt(599), result.Points[^1].LearningRate, "a point reports the rate of the last update before it");
    }

    [TestMethod]
    public void TheInSampleErrorPicksTheLambdaTheCurvesWereMadeWith()
    {
        var options = Options(600, 10, 1e-2) with { MomentumDecay = 0.99, WarmupSteps = 20, FirstFittedStep = 40 };
        var law = new LossLawParameters(L0: 2.0, A: 1.5, Alpha: 0.6, C: 3.0);
        var (constant, cosine, wsd) = (LawRun("constant", options.ConstantSchedule, options, law), LawRun("cosine", options.CosineSchedule, options, law),
            LawRun("WSD", options.WsdSchedule, options, law));

        var sweep = LossLawExperiment.AnalyseMomentumDecays(options, [0.9, 0.99, 0.999], constant, cosine, wsd);

        CollectionAssert.AreEqual(new[] { 0.9, 0.99, 0.999 }, sweep.Select(result => result.Options.MomentumDecay).ToArray());
        Assert.AreEqual(0.99, sweep.MinBy(result => result.InSampleMeanAbsoluteRelativeError)!.Options.MomentumDecay);
        Assert.IsGreaterThan(10 * sweep[1].WsdMeanAbsoluteRelativeError, sweep[0].WsdMeanAbsoluteRelativeError, "a wrong lambda predicts worse");
        Assert.HasCount(4, LossLawReport.MomentumDecayCsv(sweep).TrimEnd('\n').Split('\n'));
        var table = LossLawReport.MomentumDecayTable(sweep).TrimEnd('\n').Split('\n');
        Assert.HasCount(5, table);
        StringAssert.StartsWith(table[3], "| 0.99 (chosen in-sample) |");
    }

    [TestMethod]
    public void AShiftedStepAlignmentIsNotPredictedExactly()
    {
        // The same law but measured one step later than the experiment assumes: the WSD decay then misfits,
        // which shows the test above checks the alignment, not just the fit.
        var options = Options(600, 10, 1e-2) with { MomentumDecay = 0.99, WarmupSteps = 20, FirstFittedStep = 40 };
        var law = new LossLawParameters(L0: 2.0, A: 1.5, Alpha: 0.6, C: 3.0);
        PretrainingRunResult Shifted(string name, ISchedule schedule)
        {
            var lawSteps = Enumerable.Range(0, 600).Select(step => (long)step + 1).ToArray();
            var losses = AnnealingLossLaw.Predict(law, schedule, lawSteps, options.Areas);
            var history = Enumerable.Range(0, 600).Select(step => new StepMetrics(step + 1, 3, schedule.ValueAt(step), (step + 1) % 10 == 0 ? losses[step] : null)).ToArray();
            return new PretrainingRunResult(name, 1e-2, history, losses[^1], null, TimeSpan.Zero);
        }

        var result = LossLawExperiment.Analyse(options, Shifted("constant", options.ConstantSchedule), Shifted("cosine", options.CosineSchedule), Shifted("WSD", options.WsdSchedule));
        Assert.IsGreaterThan(1e-4, result.WsdMaximumAbsoluteRelativeError);
    }

    [TestMethod]
    public void ATinyGptRunsEndToEndAndReports()
    {
        var options = Options(48, 4, 3e-3) with { WarmupSteps = 4, FirstFittedStep = 8 };
        var tokens = Enumerable.Range(0, 300).Select(index => (index * 7 + index / 11) % 11).ToArray();
        var result = LossLawExperiment.Run(options, tokens, tokens[50..], new Parallelism(2));

        CollectionAssert.AreEqual(new[] { "constant", "cosine", "WSD" }, new[] { result.Constant.Name, result.Cosine.Name, result.Wsd.Name });
        CollectionAssert.AreEqual(Enumerable.Range(0, 48).Select(step => options.CosineSchedule.ValueAt(step)).ToArray(), result.Cosine.History.Select(row => row.LearningRate).ToArray());
        Assert.IsTrue(result.Constant.History.Skip(4).All(row => row.LearningRate == 3e-3), "the constant run stays at the peak after its warm-up");
        Assert.HasCount(3 * 11, result.Points);
        Assert.IsTrue(double.IsFinite(result.WsdMeanAbsoluteRelativeError) && result.WsdMeanAbsoluteRelativeError >= 0);
        foreach (var point in result.Points)
        {
            var run = point.Schedule switch { "constant" => result.Constant, "cosine" => result.Cosine, _ => result.Wsd };
            Assert.AreEqual(run.History[(int)point.Step - 1].ValidationLoss, point.Measured);
            Assert.AreEqual(run.History[(int)point.Step - 1].LearningRate, point.LearningRate);
        }

        var csv = LossLawReport.PointsCsv(result).TrimEnd('\n').Split('\n');
        Assert.AreEqual("Schedule,Step,LearningRate,Measured,Predicted,RelativeError,Fitted", csv[0]);
        Assert.HasCount(1 + 33, csv);
        using var chart = LossLawReport.Chart(result);
        CollectionAssert.AreEqual(new[] { "WSD measured", "WSD predicted", "constant measured", "constant fit", "cosine measured", "cosine fit" }, PlotContents.LegendTexts(chart));
        using var schedules = LossLawReport.ScheduleChart(result);
        CollectionAssert.AreEqual(new[] { "constant", "cosine", "WSD" }, PlotContents.LegendTexts(schedules));
        StringAssert.Contains(LossLawReport.Summary(result), "WSD predicted vs measured: MARE");
    }

    [TestMethod]
    public void DivergedOrUnevaluatedRunsAreRefused()
    {
        var options = Options(100, 10, 1e-2);
        var law = new LossLawParameters(2, 1, 0.5, 1);
        var good = LawRun("constant", options.ConstantSchedule, options, law);
        var diverged = new PretrainingRunResult("cosine", 1e-2, [], double.PositiveInfinity, 17, TimeSpan.Zero);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => LossLawExperiment.Analyse(options, good, diverged, good));
        StringAssert.Contains(error.Message, "cosine run diverged at step 17");

        var late = options with { FirstFittedStep = 101 };
        error = Assert.ThrowsExactly<InvalidOperationException>(() => LossLawExperiment.Analyse(late, good, good, good));
        StringAssert.Contains(error.Message, "no validation loss from step 101 on");
    }

    [TestMethod]
    public void BadOptionsAreRefusedNamingThem()
    {
        var options = Options(100, 10, 1e-2);
        Assert.AreEqual("peakLearningRate", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Options(100, 10, 0)).ParamName);
        Assert.AreEqual("MomentumDecay", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => options with { MomentumDecay = 1 }).ParamName);
        Assert.AreEqual("CosineMinRatio", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => options with { CosineMinRatio = -0.1 }).ParamName);
        Assert.AreEqual("FirstFittedStep", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => options with { FirstFittedStep = 0 }).ParamName);
        Assert.AreEqual(5, options.WarmupSteps, "5% of the run by default");
        Assert.AreEqual(10, options.FirstFittedStep, "10% of the run by default");
    }
}
