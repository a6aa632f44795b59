// Fine-tunes a small transformer encoder to tell spam from ham on the shipped SpamAssassin subset:
// load the TSVs, learn a byte-pair encoding, tokenise, fine-tune with a progress display, evaluate on the
// validation set, save the whole pipeline, load it back and check that it predicts the same.
//
//   dotnet run -c Release --project samples/SpamFineTune [-- epochs]      (about 1-2 minutes on 2 cores)

using System.Diagnostics;
using System.Globalization;
using Pipelines;
using Pipelines.Components.Models;
using Pipelines.Components.Schedules;
using Pipelines.Components.Text;
using Pipelines.Components.Training;
using Pipelines.Data;
using Pipelines.FineTuning;
using Pipelines.Transforms;
using Spectre.Console;

const int VocabularySize = 2048;
const int MaximumSequenceLength = 256;
var epochs = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 3;
var clock = Stopwatch.StartNew();

var dataDirectory = FindSpamData();
var outputDirectory = Directory.CreateTempSubdirectory("spam-fine-tune-").FullName;
var context = new PipelineContext(seed: 2024);
var train = context.Data.LoadFromTextFile<SpamMessage>(Path.Combine(dataDirectory, "train.tsv"), separatorChar: '\t', hasHeader: true, allowQuoting: false);
var validation = context.Data.LoadFromTextFile<SpamMessage>(Path.Combine(dataDirectory, "validation.tsv"), separatorChar: '\t', hasHeader: true, allowQuoting: false);
AnsiConsole.MarkupLine($"Loaded [bold]{train.GetRowCount()}[/] training and [bold]{validation.GetRowCount()}[/] validation messages from {dataDirectory}.");

// Tokens: a byte-pair encoding learnt from the training text maps Text to a Tokens column.
var tokenize = context.Text.TrainBytePairEncoding(outputColumnName: "Tokens", inputColumnName: "Text", vocabularySize: VocabularySize).Fit(train);
var tokenizer = tokenize.Tokenizer;
var trainTokens = tokenize.Transform(train);
var validationTokens = tokenize.Transform(validation);
AnsiConsole.MarkupLine($"Learnt a byte-pair encoding of {tokenizer.VocabularySize} tokens in {clock.Elapsed.TotalSeconds:F1} s.");

// Fine-tuning.
var options = new TextClassificationOptions
{
    Model = new TransformerConfig(layerCount: 2, headCount: 4, channels: 64, contextLength: MaximumSequenceLength, vocabularySize: tokenizer.VocabularySize),
    MaximumSequenceLength = MaximumSequenceLength,
    BatchSize = 16,
    Epochs = epochs,
    LearningRateSchedule = steps => new CosineSchedule(2e-3, steps, warmupSteps: steps / 10),
    EvaluationInterval = 50,
    ThreadCount = Environment.ProcessorCount,
};
TextClassificationTransformer classifier = null!;
AnsiConsole.Progress()
    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
    .Start(display =>
    {
        var task = display.AddTask("Fine-tuning", maxValue: 1);
        var progress = new InlineProgress(report =>
        {
            task.MaxValue = report.TotalSteps;
            task.Value = report.Step;
            var validationText = report.ValidationLoss is { } loss ? $" val {loss:F3}" : "";
            task.Description = $"step {report.Step}/{report.TotalSteps} epoch {report.Epoch:F2} loss {report.Loss:F3}{validationText} {report.TokensPerSecond:N0} tok/s";
        });
        classifier = context.FineTuning.TextClassification(options).Fit(trainTokens, validationTokens, progress);
    });
var trainingSeconds = clock.Elapsed.TotalSeconds;

// Evaluation on the validation set.
var metrics = context.FineTuning.Evaluate(classifier.Transform(validationTokens));
var summary = new Table().AddColumns("Validation", "Value");
summary.AddRow("Accuracy", metrics.Accuracy.ToString("P2", CultureInfo.InvariantCulture));
summary.AddRow("Macro-F1", metrics.MacroF1.ToString("F4", CultureInfo.InvariantCulture));
summary.AddRow("Log-loss", metrics.LogLoss.ToString("F4", CultureInfo.InvariantCulture));
for (var index = 0; index < metrics.ClassNames.Count; index++)
{
    summary.AddRow($"{metrics.ClassNames[index]}: precision / recall / F1",
        string.Create(CultureInfo.InvariantCulture, $"{metrics.PerClassPrecision[index]:F3} / {metrics.PerClassRecall[index]:F3} / {metrics.PerClassF1[index]:F3}"));
}

AnsiConsole.Write(summary);
var confusion = new Table().AddColumn("label \\ predicted");
foreach (var name in metrics.ClassNames) confusion.AddColumn(name);
for (var label = 0; label < metrics.ClassNames.Count; label++)
{
    string[] cells = [metrics.ClassNames[label], .. Enumerable.Range(0, metrics.ClassNames.Count)
        .Select(predicted => metrics.ConfusionMatrix.GetCount(label, predicted).ToString(CultureInfo.InvariantCulture))];
    confusion.AddRow(cells);
}

AnsiConsole.Write(confusion);

// Save the pipeline (tokenizer + classifier), load it back, compare predictions.
var pipeline = tokenize.Append(classifier);
var modelPath = Path.Combine(outputDirectory, "spam-classifier.zip");
context.Model.Save(pipeline, validation.Schema, modelPath);
var loaded = context.Model.Load(modelPath, out _);
var before = context.Data.CreateEnumerable<SpamPrediction>(pipeline.Transform(validation), reuseRowObject: false).ToList();
var after = context.Data.CreateEnumerable<SpamPrediction>(loaded.Transform(validation), reuseRowObject: false).ToList();
var identical = before.Zip(after).All(pair => pair.First.PredictedLabel == pair.Second.PredictedLabel && pair.First.Score.SequenceEqual(pair.Second.Score));
AnsiConsole.MarkupLine($"Saved the pipeline to {modelPath} ({new FileInfo(modelPath).Length / 1024} KiB); reloaded predictions are " +
    (identical ? "[green]identical[/]" : "[red]DIFFERENT[/]") + $" on all {after.Count} validation messages.");

using var engine = context.Model.CreatePredictionEngine<SpamMessage, SpamPrediction>(loaded);
foreach (var text in new[] { "Congratulations! You have been selected to receive a FREE vacation. Click here to claim your prize now!!!", "Hi Tom, the meeting moved to 3pm tomorrow; I attached the revised agenda. Thanks, Anna" })
{
    var prediction = engine.Predict(new SpamMessage { Text = text });
    AnsiConsole.MarkupLine($"[bold]{prediction.PredictedLabel}[/] ({prediction.Score.Max():P1}): {Markup.Escape(text)}");
}

AnsiConsole.MarkupLine($"Training took {trainingSeconds:F0} s; everything {clock.Elapsed.TotalSeconds:F0} s on {Environment.ProcessorCount} threads.");
return identical ? 0 : 1;

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
    [LoadColumn(0)]
    public string Label { get; set; } = "";

    [LoadColumn(1)]
    public string Text { get; set; } = "";
}

/// <summary>What the classifier adds.</summary>
internal sealed class SpamPrediction
{
    public string PredictedLabel { get; set; } = "";

    public float[] Score { get; set; } = [];
}

/// <summary>Reports on the training thread, so the display updates as steps finish.</summary>
internal sealed class InlineProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
