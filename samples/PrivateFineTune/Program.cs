// Private fine-tuning of the spam classifier (technique 5): the encoder of samples/SpamFineTune fine-tuned without
// privacy, with DP-SGD and with RLDP at target epsilon 1, 3 and 8 (delta 1e-5), three seeds each; test accuracy, and
// how much a loss-threshold membership-inference attack learns (its AUC, members = training messages, non-members =
// held-out ones). Writes results.csv, summary.csv and accuracy.svg/.png and membership.svg/.png to the output folder.
//
//   dotnet run -c Release --project samples/PrivateFineTune [-- --output runs/private]     (about 15 minutes on 2 cores)
//   dotnet run -c Release --project samples/PrivateFineTune -- --quick                     (a smoke run of seconds)
//   options: --seeds N, --first-seed 1, --epsilons 1 3 8, --learning-rate 2e-3, --batch-size 64, --steps 100 (see --help)
//   --pretrain-steps N: first pre-train a GPT body of the encoder's shape on samples/data/brown (tokenized with the classifier's
//   BPE, so its embeddings match the classifier's token ids) and start every run from it (0, the default, = from random weights);
//   --adaptation full|lora|both: fine-tune every weight, LoRA (rank 8, alpha 16, every projection) + the head, or both in turn.

using System.CommandLine;
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines;
using Pipelines.Components.Models;
using Pipelines.Components.Training;
using Pipelines.Pretraining;
using PrivateFineTune;
using Spectre.Console;

var quickOption = new Option<bool>("--quick") { Description = "A smoke run of seconds: a tiny encoder on a few messages, epsilon 3, one seed." };
var outputOption = new Option<string>("--output") { Description = "Where results.csv, summary.csv and accuracy.svg/.png and membership.svg/.png go.", DefaultValueFactory = _ => Path.Combine("runs", "private") };
var seedsOption = new Option<int>("--seeds") { Description = "Seeds per setting (1, 2, ...); the full run's default is 3." };
var firstSeedOption = new Option<int>("--first-seed") { Description = "The first seed (default 1): --seeds N runs seeds first..first+N-1.", DefaultValueFactory = _ => 1 };
firstSeedOption.Validators.Add(result => { if (result.GetValueOrDefault<int>() < 0) result.AddError($"--first-seed must not be negative, not {result.GetValueOrDefault<int>()}."); });
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
var pretrainStepsOption = new Option<long>("--pretrain-steps") { Description = "Pre-train a GPT body of the encoder's shape on samples/data/brown for N steps (tokenized with the classifier's BPE), save it to the output folder and start every run from it (default 0: from random weights)." };
pretrainStepsOption.Validators.Add(result => { if (result.GetValueOrDefault<long>() < 0) result.AddError($"--pretrain-steps must not be negative, not {result.GetValueOrDefault<long>()}."); });
var pretrainDocumentsOption = new Option<int>("--pretrain-documents") { Description = "Brown training documents to pre-train on (default all)." };
pretrainDocumentsOption.Validators.Add(result => { if (result.GetValueOrDefault<int>() < 0) result.AddError($"--pretrain-documents must not be negative, not {result.GetValueOrDefault<int>()}."); });
var adaptationOption = new Option<string>("--adaptation") { Description = "full (every weight), lora (rank 8, alpha 16, every projection, + the head) or both (default full).", DefaultValueFactory = _ => "full" };
adaptationOption.AcceptOnlyFromAmong("full", "lora", "both");
var root = new RootCommand("Fine-tunes the spam classifier without privacy, with DP-SGD and with RLDP at several budgets, and measures accuracy and membership leakage.")
{
    quickOption, outputOption, seedsOption, firstSeedOption, epsilonsOption, learningRateOption, batchSizeOption, stepsOption, pretrainStepsOption, pretrainDocumentsOption, adaptationOption,
};
root.SetAction((parsed, cancellationToken) =>
{
    var settings = parsed.GetValue(quickOption) ? ExperimentSettings.Quick : ExperimentSettings.Full;
    var firstSeed = parsed.GetValue(firstSeedOption);
    if (parsed.GetValue(seedsOption) is > 0 and var seeds) settings = settings with { Seeds = [.. Enumerable.Range(firstSeed, seeds)] };
    else if (firstSeed != 1) settings = settings with { Seeds = [.. settings.Seeds.Select(seed => seed - 1 + firstSeed)] };
    if (parsed.GetValue(epsilonsOption) is { Length: > 0 } epsilons) settings = settings with { Epsilons = epsilons };
    if (parsed.GetValue(learningRateOption) is > 0 and var learningRate) settings = settings with { LearningRate = learningRate };
    if (parsed.GetValue(batchSizeOption) is > 0 and var batchSize) settings = settings with { BatchSize = batchSize };
    if (parsed.GetValue(stepsOption) is > 0 and var steps) settings = settings with { Steps = steps };
    if (parsed.GetValue(pretrainStepsOption) is > 0 and var pretrainSteps) settings = settings with { PretrainingSteps = pretrainSteps };
    if (parsed.GetValue(pretrainDocumentsOption) is > 0 and var pretrainDocuments) settings = settings with { PretrainingDocuments = pretrainDocuments };
    settings = settings with
    {
        Adaptations = parsed.GetValue(adaptationOption) switch { "lora" => [Adaptation.Lora], "both" => [Adaptation.Full, Adaptation.Lora], _ => [Adaptation.Full] },
    };
    return Task.FromResult(Run(settings, parsed.GetValue(outputOption)!, cancellationToken));
});
return await root.Parse(args).InvokeAsync();

static int Run(ExperimentSettings settings, string output, CancellationToken cancellationToken)
{
    var clock = Stopwatch.StartNew();
    var data = LoadSpam(settings);
    AnsiConsole.MarkupLine($"Spam: {data.TrainingLabels.Length} training messages (members), {data.TestLabels.Length} test messages (non-members), " +
        $"{settings.RewardCount} held out for validation and RLDP's reward; {Environment.ProcessorCount} threads.");
    var plan = new List<(Adaptation Adaptation, Method Method, double Epsilon, int Seed)>();
    foreach (var adaptation in settings.Adaptations)
    {
        foreach (var seed in settings.Seeds)
        {
            plan.Add((adaptation, Method.NonPrivate, double.NaN, seed));
            foreach (var epsilon in settings.Epsilons) plan.AddRange([(adaptation, Method.DpSgd, epsilon, seed), (adaptation, Method.Rldp, epsilon, seed)]);
        }
    }

    var pretrained = settings.PretrainingSteps > 0 ? Pretrain(data, settings, output, cancellationToken) : null;

    var results = new List<RunResult>();
    AnsiConsole.Progress()
        .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
        .Start(display =>
        {
            var overall = display.AddTask("all runs", maxValue: plan.Count);
            foreach (var (adaptation, method, epsilon, seed) in plan)
            {
                var name = method == Method.NonPrivate ? $"{adaptation} {method} seed {seed}" : $"{adaptation} {method} epsilon {epsilon:G3} seed {seed}";
                var task = display.AddTask(name, maxValue: settings.Steps);
                var progress = new InlineProgress(report =>
                {
                    task.Value = report.Step;
                    task.Description = $"{name}: step {report.Step}/{report.TotalSteps} loss {report.Loss:F3}" + (report.Epsilon is { } spent ? $" epsilon {spent:F3}" : "");
                });
                results.Add(PrivateRun.Run(data, settings, method, adaptation, epsilon, seed, pretrained, progress, cancellationToken));
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
    // The pre-training text is tokenized with this same BPE, so the pre-trained embeddings line up with the classifier's token ids.
    var trainView = context.Data.LoadFromEnumerable(train);
    var tokenizer = context.Transforms.Text.TrainBytePairEncoding(outputColumnName: "Tokens", inputColumnName: "Text", vocabularySize: settings.VocabularySize).Fit(trainView);
    var labels = context.Transforms.Conversion.MapValueToKey("Label").Fit(trainView);
    IDataView Tokens(SpamMessage[] rows) => tokenizer.Transform(labels.Transform(context.Data.LoadFromEnumerable(rows)));
    return new SpamSplits(context, Tokens(train), [.. train.Select(row => row.Label)], Tokens(reward), Tokens(test), [.. test.Select(row => row.Label)], tokenizer);
}

// A GPT of the encoder's shape pre-trained as a causal language model on Brown (public text, no privacy needed), tokenized with
// the classifier's BPE; its safetensors start every fine-tuning run (full or LoRA). Returns the weights' path.
static string Pretrain(SpamSplits data, ExperimentSettings settings, string output, CancellationToken cancellationToken)
{
    var brown = Path.Combine(Path.GetDirectoryName(FindSpamData())!, "brown", "train.txt");
    var documents = File.ReadAllText(brown).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Take(settings.PretrainingDocuments)
        .Select(text => new BrownDocument { Text = text }).ToArray();
    var tokens = data.Tokenizer.Transform(data.Context.Data.LoadFromEnumerable(documents));
    var clock = Stopwatch.StartNew();
    CausalLanguageModelTransformer? model = null;
    AnsiConsole.Progress()
        .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
        .Start(display =>
        {
            var task = display.AddTask("pre-training on Brown", maxValue: settings.PretrainingSteps);
            var progress = new InlineProgress(report =>
            {
                task.Value = report.Step;
                task.Description = $"pre-training on Brown: step {report.Step}/{report.TotalSteps} loss {report.Loss:F3}";
            });
            model = data.Context.Pretraining().CausalLanguageModel(new CausalLanguageModelOptions
            {
                Model = new TransformerConfig(settings.Layers, settings.Heads, settings.Channels, settings.MaximumSequenceLength),
                BatchSize = settings.BatchSize, Steps = settings.PretrainingSteps, LearningRate = settings.PretrainingLearningRate, EvaluationInterval = 0,
                ThreadCount = settings.Threads, Seed = 1, Progress = progress, CancellationToken = cancellationToken,
            }).Fit(tokens);
            task.Value = task.MaxValue;
        });
    Directory.CreateDirectory(output);
    var path = Path.Combine(output, "pretrained-gpt.safetensors");
    using (var file = File.Create(path)) model!.Model.SaveSafeTensors(file);
    var history = model.TrainingHistory;
    var tail = history is { Count: > 0 } ? history.Skip(history.Count - Math.Max(1, history.Count / 10)).Average(step => step.TrainingLoss) : double.NaN;
    AnsiConsole.MarkupLine($"Pre-trained the body on {documents.Length} Brown documents: {settings.PretrainingSteps} steps, training loss of the last tenth {tail:F3}, " +
        $"{clock.Elapsed.TotalSeconds:F0} s; saved to {Markup.Escape(path)}.");
    return path;
}

static IEnumerable<SpamMessage> Read(string path) => File.ReadLines(path).Skip(1).Select(line =>
{
    var tab = line.IndexOf('\t');
    return new SpamMessage { Label = line[..tab], Text = line[(tab + 1)..] };
});

static string FindSpamData() => Pipelines.Samples.RepositoryPath.Find(Path.Combine("samples", "data", "spam"));

/// <summary>A row of the spam TSVs (<c>Label\tText</c>).</summary>
internal sealed class SpamMessage
{
    public string Label { get; set; } = "";

    public string Text { get; set; } = "";
}

/// <summary>One Brown document, the row type of pre-training.</summary>
internal sealed class BrownDocument
{
    public string Text { get; set; } = "";
}

/// <summary>Reports on the training thread, so the display updates as steps finish.</summary>
internal sealed class InlineProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
