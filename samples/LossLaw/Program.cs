// The annealing loss law on real runs (arXiv 2408.11029): train a small GPT on Brown under a constant rate and under a
// cosine, fit L(s) = L0 + A*S1^-alpha - C*S2 to those two validation curves, predict the curve of a WSD run from its
// schedule alone, and compare with the measured one (mean absolute relative error).
//
//   dotnet run -c Release --project samples/LossLaw                  # the full run (~5 min on 2 idle cores)
//   dotnet run -c Release --project samples/LossLaw -- --quick       # a smoke run (seconds)
//   dotnet run -c Release --project samples/LossLaw -- --help
//
// Writes DIR/points.csv, prediction.{svg,png}, prediction-wsd.{svg,png}, schedules.{svg,png}, lambda-sweep.csv,
// prediction-chosen-lambda.{svg,png}, summary.txt (DIR defaults to runs/losslaw).
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Pipelines.Components.Compute;
using Pipelines.Experiments;
using Pipelines.Samples;
using Spectre.Console;

var quickOption = new Option<bool>("--quick") { Description = "A smoke run: a 1 x 32 model, 60 steps (seconds)." };
var stepsOption = new Option<int?>("--steps") { Description = "Updates per run (2000; 60 with --quick)." };
var threadsOption = new Option<int>("--threads") { Description = "Runs trained at once.", DefaultValueFactory = _ => 2 };
var layersOption = new Option<int?>("--layers") { Description = "Transformer blocks (3; 1 with --quick)." };
var channelsOption = new Option<int?>("--channels") { Description = "Model width (96; 32 with --quick)." };
var peakOption = new Option<double>("--peak") { Description = "The peak learning rate shared by the three runs.", DefaultValueFactory = _ => 3e-3 };
var lambdaOption = new Option<double>("--lambda") { Description = "The annealing momentum's decay lambda in [0, 1).", DefaultValueFactory = _ => 0.999 };
var outputOption = new Option<string>("--out") { Description = "Where the CSV, charts and summary go.", DefaultValueFactory = _ => Path.Combine("runs", "losslaw") };
var root = new RootCommand("Fits the annealing loss law to a constant and a cosine run of a small GPT on Brown and predicts a WSD run.")
{
    quickOption, stepsOption, threadsOption, layersOption, channelsOption, peakOption, lambdaOption, outputOption,
};
root.SetAction(parsed =>
{
    var quick = parsed.GetValue(quickOption);
    return ConsoleCancellation.Run(cancellation => Run(quick, parsed.GetValue(stepsOption) ?? (quick ? 60 : 2000), parsed.GetValue(threadsOption),
        parsed.GetValue(layersOption), parsed.GetValue(channelsOption), parsed.GetValue(peakOption), parsed.GetValue(lambdaOption), parsed.GetValue(outputOption)!,
        cancellation));
});
return root.Parse(args).Invoke();

static int Run(bool quick, int steps, int threads, int? layers, int? channels, double peak, double lambda, string output, CancellationToken cancellation)
{
    var clock = Stopwatch.StartNew();
    var corpus = BrownCorpus.Load(vocabularySize: 1024);
    Console.WriteLine($"Brown: {corpus.Training.Length:N0} training and {corpus.Validation.Length:N0} validation tokens, vocabulary {corpus.Encoding.VocabularySize}");

    var setup = BrownSetup.SmallGpt(corpus, steps, evaluationInterval: quick ? 5 : 25, quick, layers, channels);
    var model = setup.Model;
    var options = new LossLawExperimentOptions(setup, peak) { MomentumDecay = lambda };
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"GPT {model.LayerCount} x {model.Channels}; {options.Optimizer} at peak {options.PeakLearningRate:G3}; {steps} steps, {options.WarmupSteps} warm-up; WSD decay over {options.WsdDecay}; lambda {options.MomentumDecay}; fit from step {options.FirstFittedStep}"));

    var result = ExperimentProgress.Run<PretrainingRunResult, LossLawExperimentResult>("constant, cosine and WSD runs", 3,
        run => string.Create(CultureInfo.InvariantCulture, $"  {run.Name,-8} final validation loss {run.FinalValidationLoss:F4}  ({run.Elapsed.TotalSeconds:F0} s)"),
        progress => LossLawExperiment.Run(options, corpus.Training, corpus.Validation, new Parallelism(threads), progress, cancellation));

    Directory.CreateDirectory(output);
    File.WriteAllText(Path.Combine(output, "points.csv"), LossLawReport.PointsCsv(result));
    using (var chart = LossLawReport.Chart(result)) ExperimentChart.Save(chart, Path.Combine(output, "prediction"));
    using (var chart = LossLawReport.Chart(result, includeFittedRuns: false)) ExperimentChart.Save(chart, Path.Combine(output, "prediction-wsd"));
    using (var chart = LossLawReport.ScheduleChart(result)) ExperimentChart.Save(chart, Path.Combine(output, "schedules"), height: 320);
    var summary = LossLawReport.Summary(result);

    // The paper's lambda (0.999) has a memory of ~1,000 steps, half this run; fit the same runs under shorter memories too,
    // and choose lambda by the in-sample error of the two fitted runs only, so the WSD run stays unseen.
    var lambdas = new[] { 0.98, 0.99, 0.995, 0.998, 0.999 }.Append(options.MomentumDecay).Distinct().Order().ToArray();
    var sweep = LossLawExperiment.AnalyseMomentumDecays(options, lambdas, result.Constant, result.Cosine, result.Wsd);
    var chosen = sweep.MinBy(item => item.InSampleMeanAbsoluteRelativeError)!;
    File.WriteAllText(Path.Combine(output, "lambda-sweep.csv"), LossLawReport.MomentumDecayCsv(sweep));
    using (var chart = LossLawReport.Chart(chosen)) ExperimentChart.Save(chart, Path.Combine(output, "prediction-chosen-lambda"));
    var sweepTable = LossLawReport.MomentumDecayTable(sweep);
    File.WriteAllText(Path.Combine(output, "summary.txt"), summary + "\n\n" + sweepTable);
    Console.WriteLine();
    Console.WriteLine(summary);
    Console.WriteLine();
    Console.Write(sweepTable);
    AnsiConsole.MarkupLine(Markup.Escape($"Wrote {Path.GetFullPath(output)} in {clock.Elapsed.TotalMinutes:F1} min."));
    return 0;
}
