using System.Globalization;
using Pipelines.Components.Schedules;
using ScottPlot;

namespace Pipelines.Experiments;

/// <summary>CSV, charts (ScottPlot) and a text summary of a <see cref="LossLawExperimentResult"/>.</summary>
public static class LossLawReport
{
    /// <summary>Every scored point: <c>Schedule,Step,LearningRate,Measured,Predicted,RelativeError,Fitted</c>.</summary>
    public static string PointsCsv(LossLawExperimentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return ExperimentCsv.Of(result.Points.Select(point => new
        {
            point.Schedule, point.Step, point.LearningRate, point.Measured, point.Predicted, point.RelativeError, point.Fitted,
        }));
    }

    /// <summary>The measured and predicted validation losses of the WSD run, and optionally the two fitted runs with the law's fit.</summary>
    public static Plot Chart(LossLawExperimentResult result, bool includeFittedRuns = true)
    {
        ArgumentNullException.ThrowIfNull(result);
        var title = string.Create(CultureInfo.InvariantCulture,
            $"Loss law (lambda {result.Options.MomentumDecay}): WSD predicted from constant + cosine, MARE {100 * result.WsdMeanAbsoluteRelativeError:F2}%");
        var chart = ExperimentChart.Create(title, "step", "validation loss (nats/token)");
        var names = includeFittedRuns
            ? new[] { LossLawExperiment.WsdName, LossLawExperiment.ConstantName, LossLawExperiment.CosineName }
            : [LossLawExperiment.WsdName];
        foreach (var name in names)
        {
            var points = result.Points.Where(point => point.Schedule == name).ToArray();
            var steps = points.Select(point => (double)point.Step).ToArray();
            var kind = name == LossLawExperiment.WsdName ? "predicted" : "fit";
            ExperimentChart.AddLine(chart, $"{name} measured", steps, points.Select(point => point.Measured).ToArray());
            ExperimentChart.AddLine(chart, $"{name} {kind}", steps, points.Select(point => point.Predicted).ToArray());
        }

        return chart;
    }

    /// <summary>The learning rate of the three runs over steps.</summary>
    public static Plot ScheduleChart(LossLawExperimentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var options = result.Options;
        var chart = ExperimentChart.Create("Learning-rate schedules", "step", "learning rate");
        var steps = Enumerable.Range(0, (int)Math.Min(options.Setup.Training.Steps, int.MaxValue)).Select(step => (long)step).ToArray();
        foreach (var (name, schedule) in new (string, ISchedule)[]
        {
            (LossLawExperiment.ConstantName, options.ConstantSchedule), (LossLawExperiment.CosineName, options.CosineSchedule), (LossLawExperiment.WsdName, options.WsdSchedule),
        })
            ExperimentChart.AddLine(chart, name, steps.Select(step => (double)step + 1).ToArray(), steps.Select(schedule.ValueAt).ToArray());
        return chart;
    }

    /// <summary>One row per lambda: <c>MomentumDecay,L0,A,Alpha,C,InSampleMare,ConstantMare,CosineMare,WsdMare,WsdMaximumError,WsdFinalError</c>.</summary>
    public static string MomentumDecayCsv(IReadOnlyList<LossLawExperimentResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        return ExperimentCsv.Of(results.Select(result => new
        {
            result.Options.MomentumDecay, result.Fit.Parameters.L0, result.Fit.Parameters.A, result.Fit.Parameters.Alpha, result.Fit.Parameters.C,
            InSampleMare = result.InSampleMeanAbsoluteRelativeError, ConstantMare = result.Fit.MeanAbsoluteRelativeErrors[0],
            CosineMare = result.Fit.MeanAbsoluteRelativeErrors[1], WsdMare = result.WsdMeanAbsoluteRelativeError,
            WsdMaximumError = result.WsdMaximumAbsoluteRelativeError, WsdFinalError = result.WsdFinalRelativeError,
        }));
    }

    /// <summary>A markdown table of the errors per lambda, the in-sample choice marked.</summary>
    public static string MomentumDecayTable(IReadOnlyList<LossLawExperimentResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var chosen = results.MinBy(result => result.InSampleMeanAbsoluteRelativeError);
        var text = new System.Text.StringBuilder();
        text.Append("| lambda | L0 | A | alpha | C | in-sample MARE (constant, cosine) | WSD MARE | WSD max error | WSD final-point error |\n");
        text.Append("|---|---|---|---|---|---|---|---|---|\n");
        foreach (var result in results)
        {
            var parameters = result.Fit.Parameters;
            var mark = ReferenceEquals(result, chosen) ? " (chosen in-sample)" : "";
            text.Append(string.Create(CultureInfo.InvariantCulture,
                $"| {result.Options.MomentumDecay}{mark} | {parameters.L0:G4} | {parameters.A:G4} | {parameters.Alpha:G4} | {parameters.C:G4} | {100 * result.Fit.MeanAbsoluteRelativeErrors[0]:F2}%, {100 * result.Fit.MeanAbsoluteRelativeErrors[1]:F2}% | {100 * result.WsdMeanAbsoluteRelativeError:F2}% | {100 * result.WsdMaximumAbsoluteRelativeError:F2}% | {100 * result.WsdFinalRelativeError:F2}% |\n"));
        }

        return text.ToString();
    }

    /// <summary>A few lines: the fitted parameters, the in-sample errors and the WSD prediction's errors.</summary>
    public static string Summary(LossLawExperimentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var parameters = result.Fit.Parameters;
        return string.Create(CultureInfo.InvariantCulture, $"""
            lambda {result.Options.MomentumDecay}; fit on {LossLawExperiment.ConstantName} + {LossLawExperiment.CosineName}: L0 = {parameters.L0:G5}, A = {parameters.A:G5}, alpha = {parameters.Alpha:G5}, C = {parameters.C:G5}
            in-sample MARE: {LossLawExperiment.ConstantName} {100 * result.Fit.MeanAbsoluteRelativeErrors[0]:F3}%, {LossLawExperiment.CosineName} {100 * result.Fit.MeanAbsoluteRelativeErrors[1]:F3}%
            WSD predicted vs measured: MARE {100 * result.WsdMeanAbsoluteRelativeError:F3}%, max {100 * result.WsdMaximumAbsoluteRelativeError:F3}%, final point {100 * result.WsdFinalRelativeError:F3}%
            final validation losses (measured): constant {result.Constant.FinalValidationLoss:F4}, cosine {result.Cosine.FinalValidationLoss:F4}, WSD {result.Wsd.FinalValidationLoss:F4}
            """);
    }
}
