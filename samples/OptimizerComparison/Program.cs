// FOCUS vs AdamW vs Signum: pre-training a small GPT on the Brown corpus at equal tokens, each optimizer at its
// best peak learning rate from a small grid, all under the same warmup-stable-decay schedule.
//
//   dotnet run -c Release --project samples/OptimizerComparison                 # the full run (~10 min on 2 idle cores)
//   dotnet run -c Release --project samples/OptimizerComparison -- --quick      # a smoke run (seconds)
//   dotnet run -c Release --project samples/OptimizerComparison -- --help
//
// Writes DIR/curves.csv, summary.csv, table.md, validation.{svg,png}, training.{svg,png} (DIR defaults to runs/optimizers).
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Pipelines.Components.Compute;
using Pipelines.Experiments;
using Pipelines.Samples;
using Spectre.Console;

var quickOption = new Option<bool>("--quick") { Description = "A smoke run: a 1 x 32 model, 40 steps, one rate per optimizer (seconds)." };
var stepsOption = new Option<int?>("--steps") { Description = "Updates per run (2000; 40 with --quick)." };
var threadsOption = new Option<int>("--threads") { Description = "Runs trained at once.", DefaultValueFactory = _ => 2 };
var layersOption = new Option<int?>("--layers") { Description = "Transformer blocks (3; 1 with --quick)." };
var channelsOption = new Option<int?>("--channels") { Description = "Model width (96; 32 with --quick)." };
var adamWOption = RatesOption("--adamw", "AdamW");
var signumOption = RatesOption("--signum", "Signum");
var focusOption = RatesOption("--focus", "FOCUS");
var outputOption = new Option<string>("--out") { Description = "Where the CSV, table and charts go.", DefaultValueFactory = _ => Path.Combine("runs", "optimizers") };
var root = new RootCommand("Pre-trains a small GPT on Brown with AdamW, Signum and FOCUS over a grid of peak rates, at equal tokens, and compares them.")
{
    quickOption, stepsOption, threadsOption, layersOption, channelsOption, adamWOption, signumOption, focusOption, outputOption,
};
root.SetAction(parsed =>
{
    var quick = parsed.GetValue(quickOption);
    double[] Rates(Option<double[]?> option, double[] full, double quickRate) => parsed.GetValue(option) is { Length: > 0 } given ? given : quick ? [quickRate] : full;
    var candidates = new[]
    {
        OptimizerCandidate.AdamW(Rates(adamWOption, [3e-4, 1e-3, 3e-3, 1e-2], 3e-3)),
        OptimizerCandidate.Signum(Rates(signumOption, [1e-4, 3e-4, 1e-3, 3e-3], 1e-3)),
        OptimizerCandidate.Focus(Rates(focusOption, [1e-4, 3e-4, 1e-3, 3e-3], 1e-3)),
    };
    return ConsoleCancellation.Run(cancellation => Run(quick, parsed.GetValue(stepsOption) ?? (quick ? 40 : 2000), parsed.GetValue(threadsOption),
        parsed.GetValue(layersOption), parsed.GetValue(channelsOption), candidates, parsed.GetValue(outputOption)!, cancellation));
});
return root.Parse(args).Invoke();

static Option<double[]?> RatesOption(string name, string optimizer) => new(name)
{
    Description = $"{optimizer}'s grid of peak learning rates, e.g. {name} 1e-3 3e-3.",
    AllowMultipleArgumentsPerToken = true,
};

static int Run(bool quick, int steps, int threads, int? layers, int? channels, OptimizerCandidate[] candidates, string output, CancellationToken cancellation)
{
    var clock = Stopwatch.StartNew();
    var corpus = BrownCorpus.Load(vocabularySize: 1024);
    Console.WriteLine($"Brown: {corpus.Training.Length:N0} training and {corpus.Validation.Length:N0} validation tokens, vocabulary {corpus.Encoding.VocabularySize} ({clock.Elapsed.TotalSeconds:F1} s)");

    var setup = BrownSetup.SmallGpt(corpus, steps, evaluationInterval: quick ? 20 : 100, quick, layers, channels);
    var (model, training) = (setup.Model, setup.Training);
    var options = new OptimizerComparisonOptions(setup, candidates);
    var runCount = options.Candidates.Sum(candidate => candidate.PeakLearningRates.Count);
    Console.WriteLine($"GPT {model.LayerCount} layers x {model.Channels} wide, context {model.ContextLength}; {runCount} runs of {steps} steps x {training.BatchSize} x {training.SequenceLength} = {setup.TokensPerRun:N0} tokens each, {threads} at a time");
    Console.WriteLine($"WSD: {options.WarmupSteps} warm-up steps, decay over {options.Decay}, {options.DecayShape}, to {options.MinRatio} x peak");

    var result = ExperimentProgress.Run<PretrainingRunResult, OptimizerComparisonResult>($"{runCount} runs", runCount,
        run => string.Create(CultureInfo.InvariantCulture,
            $"  {run.Name,-7} lr {run.PeakLearningRate,-7:G3} final validation loss {(run.Diverged ? $"diverged at step {run.DivergedAtStep}" : run.FinalValidationLoss.ToString("F4", CultureInfo.InvariantCulture))}  ({run.Elapsed.TotalSeconds:F0} s)"),
        progress => OptimizerComparisonExperiment.Run(options, corpus.Training, corpus.Validation, new Parallelism(threads), progress, cancellation));

    Directory.CreateDirectory(output);
    File.WriteAllText(Path.Combine(output, "curves.csv"), OptimizerComparisonReport.CurvesCsv(result));
    File.WriteAllText(Path.Combine(output, "summary.csv"), OptimizerComparisonReport.SummaryCsv(result));
    var table = OptimizerComparisonReport.MarkdownTable(result);
    File.WriteAllText(Path.Combine(output, "table.md"), table);
    using (var chart = OptimizerComparisonReport.ValidationChart(result)) ExperimentChart.Save(chart, Path.Combine(output, "validation"));
    using (var chart = OptimizerComparisonReport.TrainingChart(result, window: Math.Max(1, steps / 80))) ExperimentChart.Save(chart, Path.Combine(output, "training"));

    Console.WriteLine();
    Console.Write(table);
    Console.WriteLine();
    foreach (var best in result.Best.Where(run => !run.Diverged))
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{best.Name}: {best.FinalValidationLoss:F4} nats/token = {best.FinalValidationLoss / corpus.ValidationBytesPerToken:F4} nats/byte (unigram byte baseline 3.08)"));
    AnsiConsole.MarkupLine(Markup.Escape($"Winner: {result.Winner.Name}. Wrote {Path.GetFullPath(output)} in {clock.Elapsed.TotalMinutes:F1} min."));
    return 0;
}
