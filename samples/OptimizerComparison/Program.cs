// FOCUS vs AdamW vs Signum: pre-training a small GPT on the Brown corpus at equal tokens, each optimizer at its
// best peak learning rate from a small grid, all under the same warmup-stable-decay schedule.
//
//   dotnet run -c Release --project samples/OptimizerComparison                 # the full run (~10 min on 2 idle cores)
//   dotnet run -c Release --project samples/OptimizerComparison -- --quick      # a smoke run (seconds)
//
// Options: --steps N --threads N (runs trained at once) --layers N --channels N --out DIR
//          --adamw r1,r2,.. --signum r1,r2,.. --focus r1,r2,..  (peak learning-rate grids)
// Writes DIR/curves.csv, summary.csv, table.md, validation.svg, training.svg (DIR defaults to runs/optimizers).
using System.Diagnostics;
using System.Globalization;
using Pipelines.Components.Compute;
using Pipelines.Components.Experiments;
using Pipelines.Components.Models;
using Pipelines.Components.Training;
using Pipelines.Samples;

var arguments = new SampleArguments(args);
var quick = arguments.Has("quick");
var output = arguments.Text("out", Path.Combine("runs", "optimizers"));
var steps = arguments.Int("steps", quick ? 40 : 2000);
var threads = arguments.Int("threads", 2);
var clock = Stopwatch.StartNew();

var corpus = BrownCorpus.Load(vocabularySize: 1024);
Console.WriteLine($"Brown: {corpus.Training.Length:N0} training and {corpus.Validation.Length:N0} validation tokens, vocabulary {corpus.Encoding.VocabularySize} ({clock.Elapsed.TotalSeconds:F1} s)");

var setup = BrownSetup.SmallGpt(arguments, corpus, steps, evaluationInterval: quick ? 20 : 100, quick);
var (model, training) = (setup.Model, setup.Training);
var options = new OptimizerComparisonOptions(setup,
[
    OptimizerCandidate.AdamW(arguments.Numbers("adamw", quick ? [3e-3] : [3e-4, 1e-3, 3e-3, 1e-2])),
    OptimizerCandidate.Signum(arguments.Numbers("signum", quick ? [1e-3] : [1e-4, 3e-4, 1e-3, 3e-3])),
    OptimizerCandidate.Focus(arguments.Numbers("focus", quick ? [1e-3] : [1e-4, 3e-4, 1e-3, 3e-3])),
]);
var runCount = options.Candidates.Sum(candidate => candidate.PeakLearningRates.Count);
Console.WriteLine($"GPT {model.LayerCount} layers x {model.Channels} wide, context {model.ContextLength}; {runCount} runs of {steps} steps x {training.BatchSize} x {training.SequenceLength} = {setup.TokensPerRun:N0} tokens each, {threads} at a time");
Console.WriteLine($"WSD: {options.WarmupSteps} warm-up steps, decay over {options.Decay}, {options.DecayShape}, to {options.MinRatio} x peak");

var progress = new Progress<PretrainingRunResult>(run => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"  {run.Name,-7} lr {run.PeakLearningRate,-7:G3} final validation loss {(run.Diverged ? $"diverged at step {run.DivergedAtStep}" : run.FinalValidationLoss.ToString("F4", CultureInfo.InvariantCulture))}  ({run.Elapsed.TotalSeconds:F0} s)")));
var result = OptimizerComparisonExperiment.Run(options, corpus.Training, corpus.Validation, new Parallelism(threads), progress);

Directory.CreateDirectory(output);
File.WriteAllText(Path.Combine(output, "curves.csv"), OptimizerComparisonReport.CurvesCsv(result));
File.WriteAllText(Path.Combine(output, "summary.csv"), OptimizerComparisonReport.SummaryCsv(result));
var table = OptimizerComparisonReport.MarkdownTable(result);
File.WriteAllText(Path.Combine(output, "table.md"), table);
OptimizerComparisonReport.ValidationChart(result).WriteTo(Path.Combine(output, "validation.svg"));
OptimizerComparisonReport.TrainingChart(result, window: Math.Max(1, steps / 80)).WriteTo(Path.Combine(output, "training.svg"));

Console.WriteLine();
Console.Write(table);
Console.WriteLine();
foreach (var best in result.Best.Where(run => !run.Diverged))
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{best.Name}: {best.FinalValidationLoss:F4} nats/token = {best.FinalValidationLoss / corpus.ValidationBytesPerToken:F4} nats/byte (unigram byte baseline 3.08)"));
Console.WriteLine($"Winner: {result.Winner.Name}. Wrote {Path.GetFullPath(output)} in {clock.Elapsed.TotalMinutes:F1} min.");
