// Fine-tunes a small transformer encoder to tell spam from ham on the shipped SpamAssassin subset, in ML.NET:
// load the TSVs, map the label to a key and learn a byte-pair encoding, fine-tune with a progress display, evaluate
// on the validation set with ML.NET's evaluator, save the whole pipeline, load it back and check that it predicts the same.
//
//   dotnet run -c Release --project samples/SpamFineTune [-- --epochs 3 --backend managed|torchsharp --seed 2024]      (about 1-2 minutes on 2 cores)

using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines;
using Pipelines.Components.Backends;
using Pipelines.Components.Models;
using Pipelines.Components.Schedules;
using Pipelines.Components.Training;
using Pipelines.Components.TorchSharp.Backends;
using Pipelines.FineTuning;
using Spectre.Console;

var epochsOption = new Option<double>("--epochs") { Description = "Passes over the training data.", DefaultValueFactory = _ => 3 };
var backendOption = new Option<string>("--backend") { Description = "Where the encoder trains: the managed engine or TorchSharp (libtorch, CPU).", DefaultValueFactory = _ => "managed" };
backendOption.AcceptOnlyFromAmong("managed", "torchsharp");
var seedOption = new Option<int>("--seed") { Description = "The MLContext's seed, from which the encoder's weights and batches are drawn.", DefaultValueFactory = _ => 2024 };
var root = new RootCommand("Fine-tunes a small transformer encoder on the shipped spam subset and evaluates it with ML.NET.") { epochsOption, backendOption, seedOption };
root.SetAction(parsed => Run(parsed.GetValue(epochsOption), parsed.GetValue(backendOption) == "torchsharp" ? new TorchSharpBackend("cpu") : null, parsed.GetValue(seedOption)));
return root.Parse(args).Invoke();

static int Run(double epochs, ITrainingBackend? backend, int seed)
{
    const int VocabularySize = 2048;
    const int MaximumSequenceLength = 256;
    var clock = Stopwatch.StartNew();
    var dataDirectory = FindSpamData();
    var outputDirectory = Directory.CreateTempSubdirectory("spam-fine-tune-").FullName;
    var context = new MLContext(seed);
    var train = context.Data.LoadFromTextFile<SpamMessage>(Path.Combine(dataDirectory, "train.tsv"), separatorChar: '\t', hasHeader: true, allowQuoting: false);
    var validation = context.Data.LoadFromTextFile<SpamMessage>(Path.Combine(dataDirectory, "validation.tsv"), separatorChar: '\t', hasHeader: true, allowQuoting: false);
    AnsiConsole.MarkupLine($"Loaded [bold]{train.GetColumn<string>("Label").Count()}[/] training and [bold]{validation.GetColumn<string>("Label").Count()}[/] validation messages from {dataDirectory}.");

    // Label to key and Text to Tokens: a byte-pair encoding learnt from the training text. Fitted first so that the
    // validation set can go through it and reach the classifier's options.
    var prepare = context.Transforms.Conversion.MapValueToKey("Label")
        .Append(context.Transforms.Text.TrainBytePairEncoding(outputColumnName: "Tokens", inputColumnName: "Text", vocabularySize: VocabularySize))
        .Fit(train);
    var trainTokens = prepare.Transform(train);
    var validationTokens = prepare.Transform(validation);
    AnsiConsole.MarkupLine($"Learnt a byte-pair encoding of {prepare.LastTransformer.Tokenizer.VocabularySize} tokens in {clock.Elapsed.TotalSeconds:F1} s.");

    TextClassificationTransformer classifier = null!;
    AnsiConsole.Progress()
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
        .Start(display =>
        {
            var task = display.AddTask("Fine-tuning", maxValue: 1);
            var options = new TextClassificationOptions
            {
                Model = new TransformerConfig(layerCount: 2, headCount: 4, channels: 64, contextLength: MaximumSequenceLength),
                MaximumSequenceLength = MaximumSequenceLength,
                BatchSize = 16,
                Epochs = epochs,
                LearningRateSchedule = steps => new CosineSchedule(2e-3, steps, warmupSteps: steps / 10),
                ValidationSet = validationTokens,
                EvaluationInterval = 50,
                ThreadCount = Environment.ProcessorCount,
                Backend = backend,
                Progress = new InlineProgress(report =>
                {
                    task.MaxValue = report.TotalSteps;
                    task.Value = report.Step;
                    var validationText = report.ValidationLoss is { } loss ? $" val {loss:F3}" : "";
                    task.Description = $"step {report.Step}/{report.TotalSteps} epoch {report.Epoch:F2} loss {report.Loss:F3}{validationText} {report.TokensPerSecond:N0} tok/s";
                }),
            };
            classifier = context.MulticlassClassification.Trainers.TextClassifier(options).Fit(trainTokens);
        });
    var trainingSeconds = clock.Elapsed.TotalSeconds;

    // Evaluation on the validation set by ML.NET's evaluator; macro-F1 from its confusion matrix.
    var metrics = context.MulticlassClassification.Evaluate(classifier.Transform(validationTokens), "Label", "Score", "PredictedLabel");
    var names = classifier.ClassNames!;
    var matrix = metrics.ConfusionMatrix;
    var f1 = matrix.PerClassF1();
    var summary = new Table().AddColumns("Validation", "Value");
    summary.AddRow("Accuracy", metrics.MicroAccuracy.ToString("P2", CultureInfo.InvariantCulture));
    summary.AddRow("Macro-F1", metrics.MacroF1().ToString("F4", CultureInfo.InvariantCulture));
    summary.AddRow("Log-loss", metrics.LogLoss.ToString("F4", CultureInfo.InvariantCulture));
    for (var index = 0; index < names.Count; index++)
        summary.AddRow($"{names[index]}: precision / recall / F1",
            string.Create(CultureInfo.InvariantCulture, $"{matrix.PerClassPrecision[index]:F3} / {matrix.PerClassRecall[index]:F3} / {f1[index]:F3}"));
    AnsiConsole.Write(summary);
    var confusion = new Table().AddColumn("label \\ predicted");
    foreach (var name in names) confusion.AddColumn(name);
    for (var label = 0; label < names.Count; label++)
        confusion.AddRow([names[label], .. matrix.Counts[label].Select(count => count.ToString(CultureInfo.InvariantCulture))]);
    AnsiConsole.Write(confusion);

    // The whole pipeline (label key, tokenizer, classifier, predicted key back to text): save, load, compare.
    var toText = context.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(classifier.Transform(validationTokens));
    var pipeline = prepare.Append(classifier).Append(toText);
    var modelPath = Path.Combine(outputDirectory, "spam-classifier.zip");
    context.Model.Save(pipeline, train.Schema, modelPath);
    var loaded = new MLContext(seed: 1).Model.LoadModel(modelPath, out _);
    var before = context.Data.CreateEnumerable<SpamPrediction>(pipeline.Transform(validation), reuseRowObject: false).ToList();
    var after = context.Data.CreateEnumerable<SpamPrediction>(loaded.Transform(validation), reuseRowObject: false).ToList();
    // A model trained on TorchSharp reloads onto the managed engine: the same predictions, scores within 1e-4.
    var tolerance = backend is null ? 0 : 1e-4;
    var identical = before.Zip(after).All(pair => pair.First.PredictedLabel == pair.Second.PredictedLabel
        && pair.First.Score.Zip(pair.Second.Score).All(score => Math.Abs(score.First - score.Second) <= tolerance * Math.Max(1, Math.Abs(score.First))));
    AnsiConsole.MarkupLine($"Saved the pipeline to {modelPath} ({new FileInfo(modelPath).Length / 1024} KiB); reloaded predictions are " +
        (identical ? (tolerance == 0 ? "[green]identical[/]" : "[green]the same (scores within 1e-4)[/]") : "[red]DIFFERENT[/]") + $" on all {after.Count} validation messages.");

    using var engine = context.Model.CreatePredictionEngine<SpamMessage, SpamPrediction>(loaded);
    foreach (var text in new[] { "Congratulations! You have been selected to receive a FREE vacation. Click here to claim your prize now!!!", "Hi Tom, the meeting moved to 3pm tomorrow; I attached the revised agenda. Thanks, Anna" })
    {
        var prediction = engine.Predict(new SpamMessage { Text = text });
        AnsiConsole.MarkupLine($"[bold]{prediction.PredictedLabel}[/] ({prediction.Score.Max():P1}): {Markup.Escape(text)}");
    }

    AnsiConsole.MarkupLine($"Training took {trainingSeconds:F0} s; everything {clock.Elapsed.TotalSeconds:F0} s on {Environment.ProcessorCount} threads.");
    return identical ? 0 : 1;
}

static string FindSpamData() => Pipelines.Samples.RepositoryPath.Find(Path.Combine("samples", "data", "spam"));

/// <summary>A row of the spam TSVs (<c>Label\tText</c>).</summary>
internal sealed class SpamMessage
{
    [LoadColumn(0)]
    public string Label { get; set; } = "";

    [LoadColumn(1)]
    public string Text { get; set; } = "";
}

/// <summary>What the pipeline adds.</summary>
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
