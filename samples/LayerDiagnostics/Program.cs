// Diagnose-first selective LoRA (arXiv 2511.00797) at small scale, on the shipped data:
//   report:     pre-train a GPT on Brown, fine-tune it on Brown genres to an under- and an over-trained state, and diagnose
//               both on the spam data: CSV + figure of every metric per layer, chosen layers marked, and the JSON plans;
//   experiment: the same, then fine-tune on spam with selective LoRA, LoRA everywhere and full fine-tuning, over seeds:
//               runs.csv, summary.csv, comparison.svg/.png.
//   dotnet run -c Release --project samples/LayerDiagnostics -- experiment [--quick] [--output runs/selective-lora]
using System.CommandLine;
using System.Diagnostics;
using LayerDiagnostics;
using Microsoft.ML;

var quickOption = new Option<bool>("--quick") { Description = "A smoke test of every stage with tiny models, in well under a minute." };
var outputOption = new Option<string>("--output") { Description = "Where CSV, figures, plans and weights go.", DefaultValueFactory = _ => Path.Combine("runs", "selective-lora") };
var threadsOption = new Option<int>("--threads") { Description = "Threads the engine may use.", DefaultValueFactory = _ => Environment.ProcessorCount };
var seedsOption = new Option<int>("--seeds") { Description = "Seeds per source and method (experiment).", DefaultValueFactory = _ => 3 };
var report = new Command("report", "Build the two source models and write their layer diagnoses on the spam data (CSV, SVG, PNG, plan JSON).") { quickOption, outputOption, threadsOption };
var experiment = new Command("experiment", "The diagnoses, then selective LoRA vs LoRA everywhere vs full fine-tuning on spam, for each source state and seed.")
    { quickOption, outputOption, threadsOption, seedsOption };
report.SetAction(parsed => Run(Settings(parsed.GetValue(quickOption), parsed.GetValue(threadsOption), 1), parsed.GetValue(outputOption)!, compare: false));
experiment.SetAction(parsed => Run(Settings(parsed.GetValue(quickOption), parsed.GetValue(threadsOption), parsed.GetValue(seedsOption)), parsed.GetValue(outputOption)!, compare: true));
var root = new RootCommand("Layer diagnostics and diagnose-first selective LoRA on Brown (source) and spam (target).") { report, experiment };
return root.Parse(args).Invoke();

static ExperimentSettings Settings(bool quick, int threads, int seeds)
{
    if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "--threads must be at least 1.");
    if (seeds < 1) throw new ArgumentOutOfRangeException(nameof(seeds), seeds, "--seeds must be at least 1.");
    var settings = quick ? ExperimentSettings.Quick : new ExperimentSettings();
    return settings with { Threads = threads, Seeds = quick ? settings.Seeds : Enumerable.Range(1, seeds).ToArray() };
}

static int Run(ExperimentSettings settings, string output, bool compare)
{
    using var cancellation = new CancellationTokenSource();
    Console.CancelKeyPress += (_, eventArgs) => { eventArgs.Cancel = true; cancellation.Cancel(); };
    var clock = Stopwatch.StartNew();
    Directory.CreateDirectory(output);
    var display = new Display();
    var context = new MLContext(seed: 1);
    var sources = new SourceModels(context, settings, FindData(), output, display);
    var states = sources.Build(cancellation.Token);

    var spamTrain = sources.Tokenize(SpamRows("train", settings.SpamRowsPerLabel), out var labels);
    var spamValidation = labels.Transform(sources.Tokenizer!.Transform(context.Data.LoadFromEnumerable(SpamRows("validation", int.MaxValue).ToArray())));
    var comparison = new SelectiveLoraExperiment(context, settings, sources, output, display);
    var runs = new List<RunResult>();
    foreach (var source in states)
    {
        var diagnosis = comparison.Diagnose(source, spamTrain, cancellation.Token);
        if (compare) runs.AddRange(comparison.Compare(source, diagnosis.Plan, spamTrain, spamValidation, cancellation.Token));
    }

    WriteSources(Path.Combine(output, "sources.csv"), states);
    if (compare) ResultsReport.Write(output, runs);
    display.Line($"Done in {clock.Elapsed.TotalMinutes:F1} min on {settings.Threads} threads; outputs in {Path.GetFullPath(output)}.");
    return 0;

    IEnumerable<LabeledText> SpamRows(string split, int perLabel) =>
        File.ReadLines(Path.Combine(FindData(), "spam", $"{split}.tsv")).Skip(1).Select(line => line.Split('\t', 2))
            .Select(parts => new LabeledText { Label = parts[0], Text = parts[1] })
            .GroupBy(row => row.Label).SelectMany(group => group.Take(perLabel));
}

static void WriteSources(string path, IReadOnlyList<SourceModel> sources)
{
    Pipelines.Reporting.MetricsCsv.Write(path, sources);
}

static string FindData() => Path.GetDirectoryName(Pipelines.Samples.RepositoryPath.Find(Path.Combine("samples", "data", "spam")))!;
