// Private fine-tuning of the spam classifier (technique 5): the encoder of samples/SpamFineTune fine-tuned without
// privacy, with DP-SGD and with RLDP at target epsilon 1, 3 and 8 (delta 1e-5), three seeds each; test accuracy, and
// how much a loss-threshold membership-inference attack learns (its AUC, members = training messages, non-members =
// held-out ones). Writes results.csv, summary.csv and accuracy.svg/.png and membership.svg/.png to the output folder.
//
//   dotnet run -c Release --project samples/PrivateFineTune [-- --output runs/private]     (about 15 minutes on 2 cores)
//   dotnet run -c Release --project samples/PrivateFineTune -- --quick                     (a smoke run of seconds)
//   options: --seeds N, --epsilons 1 3 8, --learning-rate 2e-3, --batch-size 64, --steps 100 (see --help)

using System.CommandLine;
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines;
using Pipelines.Components.Training;
using PrivateFineTune;
using Spectre.Console;

var quickOption = new Option<bool>("--quick") { Description = "A smoke run of seconds: a tiny encoder on a few messages, epsilon 3, one seed." };
var outputOption = new Option<string>("--output") { Description = "Where results.csv, summary.csv and accuracy.svg/.png and membership.svg/.png go.", DefaultValueFactory = _ => Path.Combine("runs", "private") };
var seedsOption = new Option<int>("--seeds") { Description = "Seeds per setting (1, 2, ...); the full run's default is 3." };
var epsilonsOption = new Option<double[]>("--epsilons") { Description = "Target epsilons (default 1 3 8).", AllowMultipleArgumentsPerToken = true };
var learningRateOption = new Option<double>("--learning-rate") { Description = "Peak learning rate of AdamW's warm-up + cosine schedule (default 2e-3)." };
var batchSizeOption = new Option<int>("--batch-size") { Description = "Batch size, the expected one when private (q = B / N; default 64)." };
seedsOption.Validators.Add(result => { if (result.GetValueOrDefault<int>() < 1) result.AddError($"--seeds must be at least 1, not {result.GetValueOrDefault<int>()}."); });
epsilonsOption.Validators.Add(result =>
{
    foreach (var epsilon in result.GetValueOrDefault<double[]>() ?? []) if (!(epsilon > 0 && double.IsFinite(epsilon))) result.AddError($"--epsilons must be finite and positive, not {epsilon}.");
});
learningRateOption.Validators.Add(result => { if (!(result.GetValueOrDefault<double>() > 0)) result.AddError($"--learning-rate must be positive, not {result.GetValueOrDefault<double>()}."); });
batchSizeOption.Validators.Add(result => { if (result.GetValueOrDefault<int>() < 1) result.AddError($"--batch-size must be at least 1, not {result.GetValueOrDefault<int>()}."); });
var stepsOption = new Option<long>("--steps") { Description = "Updates per run (default 100)." };
stepsOption.Validators.Add(result => { if (result.GetValueOrDefault<long>() < 1) result.AddError($"--steps must be at least 1, not {result.GetValueOrDefault<long>()}."); });
var root = new RootCommand("Fine-tunes the spam classifier without privacy, with DP-SGD and with RLDP at several budgets, and measures accuracy and membership leakage.")
{
    quickOption, outputOption, seedsOption, epsilonsOption, learningRateOption, batchSizeOption, stepsOption,
};
root.SetAction((parsed, cancellationToken) =>
{
    var settings = parsed.GetValue(quickOption) ? ExperimentSettings.Quick : ExperimentSettings.Full;
    if (parsed.GetValue(seedsOption) is > 0 and var seeds) settings = settings with { Seeds = [.. Enumerable.Range(1, seeds)] };
    if (parsed.GetValue(epsilonsOption) is { Length: > 0 } epsilons) settings = settings with { Epsilons = epsilons };
    if (parsed.GetValue(learningRateOption) is > 0 and var learningRate) settings = settings with { LearningRate = learningRate };
    if (parsed.GetValue(batchSizeOption) is > 0 and var batchSize) settings = settings with { BatchSize = batchSize };
    if (parsed.GetValue(stepsOption) is > 0 and var steps) settings = settings with { Steps = steps };
    return Task.FromResult(Run(settings, parsed.GetValue(outputOption)!, cancellationToken));
});
return await root.Parse(args).InvokeAsync();

static int Run(ExperimentSettings settings, string output, CancellationToken cancellationToken)
{
    var clock = Stopwatch.StartNew();
    var data = LoadSpam(settings);
    AnsiConsole.MarkupLine($"Spam: {data.TrainingLabels.Length} training messages (members), {data.TestLabels.Length} test messages (non-members), " +
        $"{settings.RewardCount} held out for validation and RLDP's reward; {Environment.ProcessorCount} threads.");
    var plan = new List<(Method Method, double Epsilon, int Seed)>();
    foreach (var seed in settings.Seeds)
    {
        plan.Add((Method.NonPrivate, double.NaN, seed));
        foreach (var epsilon in settings.Epsilons) plan.AddRange([(Method.DpSgd, epsilon, seed), (Method.Rldp, epsilon, seed)]);
    }

    var results = new List<RunResult>();
    AnsiConsole.Progress()
        .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
        .Start(display =>
        {
            var overall = display.AddTask("all runs", maxValue: plan.Count);
            foreach (var (method, epsilon, seed) in plan)
            {
                var name = method == Method.NonPrivate ? $"{method} seed {seed}" : $"{method} epsilon {epsilon:G3} seed {seed}";
                var task = display.AddTask(name, maxValue: settings.Steps);
                var progress = new InlineProgress(report =>
                {
                    task.Value = report.Step;
                    task.Description = $"{name}: step {report.Step}/{report.TotalSteps} loss {report.Loss:F3}" + (report.Epsilon is { } spent ? $" epsilon {spent:F3}" : "");
                });
                results.Add(PrivateRun.Run(data, settings, method, epsilon, seed, progress, cancellationToken));
                task.Value = task.MaxValue;
                overall.Increment(1);
            }
        });

    var summary = Reports.Summarise(results);
    Reports.Print(summary);
    Reports.Write(output, results, summary);
    AnsiConsole.MarkupLine($"Wrote results.csv, summary.csv, accuracy.svg/.png and membership.svg/.png to {Path.GetFullPath(output)} in {clock.Elapsed.TotalMinutes:F1} min.");
    return 0;
}

static SpamSplits LoadSpam(ExperimentSettings settings)
{
    var context = new MLContext(seed: 2024);
    var directory = FindSpamData();
    // The files are sorted by label: shuffle once (fixed seed) so every subset holds both classes.
    var shuffle = new Random(2024);
    var train = Read(Path.Combine(directory, "train.tsv")).OrderBy(_ => shuffle.Next()).Take(settings.TrainingCount).ToArray();
    var heldOut = Read(Path.Combine(directory, "validation.tsv")).OrderBy(_ => shuffle.Next()).ToArray();
    var reward = heldOut.Take(settings.RewardCount).ToArray();
    var test = heldOut.Skip(settings.RewardCount).Take(settings.TestCount).ToArray();

    // The tokenizer is learnt from the training text without privacy: see the README's note.
    var prepare = context.Transforms.Conversion.MapValueToKey("Label")
        .Append(context.Transforms.Text.TrainBytePairEncoding(outputColumnName: "Tokens", inputColumnName: "Text", vocabularySize: settings.VocabularySize))
        .Fit(context.Data.LoadFromEnumerable(train));
    IDataView Tokens(SpamMessage[] rows) => prepare.Transform(context.Data.LoadFromEnumerable(rows));
    return new SpamSplits(context, Tokens(train), [.. train.Select(row => row.Label)], Tokens(reward), Tokens(test), [.. test.Select(row => row.Label)]);
}

static IEnumerable<SpamMessage> Read(string path) => File.ReadLines(path).Skip(1).Select(line =>
{
    var tab = line.IndexOf('\t');
    return new SpamMessage { Label = line[..tab], Text = line[(tab + 1)..] };
});

static string FindSpamData()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "samples", "data", "spam");
            if (File.Exists(Path.Combine(candidate, "train.tsv"))) return candidate;
        }
    }

    throw new DirectoryNotFoundException("samples/data/spam not found above the current or the program's directory.");
}

/// <summary>A row of the spam TSVs (<c>Label\tText</c>).</summary>
internal sealed class SpamMessage
{
    public string Label { get; set; } = "";

    public string Text { get; set; } = "";
}

/// <summary>Reports on the training thread, so the display updates as steps finish.</summary>
internal sealed class InlineProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
