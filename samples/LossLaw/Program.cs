// The annealing loss law on real runs (arXiv 2408.11029): train a small GPT on Brown under a constant rate and under a
// cosine, fit L(s) = L0 + A*S1^-alpha - C*S2 to those two validation curves, predict the curve of a WSD run from its
// schedule alone, and compare with the measured one (mean absolute relative error).
//
//   dotnet run -c Release --project samples/LossLaw                  # the full run (~5 min on 2 idle cores)
//   dotnet run -c Release --project samples/LossLaw -- --quick       # a smoke run (seconds)
//
// Options: --steps N --threads N (runs trained at once) --layers N --channels N --peak RATE --lambda L --out DIR
// Writes DIR/points.csv, prediction.svg, prediction-wsd.svg, schedules.svg, lambda-sweep.csv, prediction-chosen-lambda.svg,
// summary.txt (DIR defaults to runs/losslaw).
using System.Diagnostics;
using System.Globalization;
using Pipelines.Components.Compute;
using Pipelines.Components.Experiments;
using Pipelines.Components.Models;
using Pipelines.Components.Training;
using Pipelines.Samples;

var arguments = new SampleArguments(args);
var quick = arguments.Has("quick");
var output = arguments.Text("out", Path.Combine("runs", "losslaw"));
var steps = arguments.Int("steps", quick ? 60 : 2000);
var threads = arguments.Int("threads", 2);
var clock = Stopwatch.StartNew();

var corpus = BrownCorpus.Load(vocabularySize: 1024);
Console.WriteLine($"Brown: {corpus.Training.Length:N0} training and {corpus.Validation.Length:N0} validation tokens, vocabulary {corpus.Encoding.VocabularySize}");

var setup = BrownSetup.SmallGpt(arguments, corpus, steps, evaluationInterval: quick ? 5 : 25, quick);
var model = setup.Model;
var options = new LossLawExperimentOptions(setup, peakLearningRate: arguments.Numbers("peak", [3e-3])[0])
{
    MomentumDecay = arguments.Numbers("lambda", [0.999])[0],
};
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"GPT {model.LayerCount} x {model.Channels}; {options.Optimizer} at peak {options.PeakLearningRate:G3}; {steps} steps, {options.WarmupSteps} warm-up; WSD decay over {options.WsdDecay}; lambda {options.MomentumDecay}; fit from step {options.FirstFittedStep}"));

var progress = new Progress<PretrainingRunResult>(run => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"  {run.Name,-8} final validation loss {run.FinalValidationLoss:F4}  ({run.Elapsed.TotalSeconds:F0} s)")));
var result = LossLawExperiment.Run(options, corpus.Training, corpus.Validation, new Parallelism(threads), progress);

Directory.CreateDirectory(output);
File.WriteAllText(Path.Combine(output, "points.csv"), LossLawReport.PointsCsv(result));
LossLawReport.Chart(result).WriteTo(Path.Combine(output, "prediction.svg"));
LossLawReport.Chart(result, includeFittedRuns: false).WriteTo(Path.Combine(output, "prediction-wsd.svg"));
LossLawReport.ScheduleChart(result).WriteTo(Path.Combine(output, "schedules.svg"));
var summary = LossLawReport.Summary(result);

// The paper's lambda (0.999) has a memory of ~1,000 steps, half this run; fit the same runs under shorter memories too,
// and choose lambda by the in-sample error of the two fitted runs only, so the WSD run stays unseen.
var lambdas = new[] { 0.98, 0.99, 0.995, 0.998, 0.999 }.Append(options.MomentumDecay).Distinct().Order().ToArray();
var sweep = LossLawExperiment.AnalyseMomentumDecays(options, lambdas, result.Constant, result.Cosine, result.Wsd);
var chosen = sweep.MinBy(item => item.InSampleMeanAbsoluteRelativeError)!;
File.WriteAllText(Path.Combine(output, "lambda-sweep.csv"), LossLawReport.MomentumDecayCsv(sweep));
LossLawReport.Chart(chosen).WriteTo(Path.Combine(output, "prediction-chosen-lambda.svg"));
var sweepTable = LossLawReport.MomentumDecayTable(sweep);
File.WriteAllText(Path.Combine(output, "summary.txt"), summary + "\n\n" + sweepTable);
Console.WriteLine();
Console.WriteLine(summary);
Console.WriteLine();
Console.Write(sweepTable);
Console.WriteLine($"Wrote {Path.GetFullPath(output)} in {clock.Elapsed.TotalMinutes:F1} min.");
