// Stock ML.NET and Pipelines side by side on the shipped spam subset: a bag-of-n-grams baseline (FeaturizeText +
// SDCA maximum entropy) and a fine-tuned transformer encoder (TrainBytePairEncoding + TextClassifier), each one ML.NET
// chain, both scored by ML.NET's evaluator, saved, reloaded in a fresh MLContext and in a fresh process (this program
// re-launched with --evaluate), and served by a prediction engine.
//
//   dotnet run -c Release --project samples/MLNetInterop [-- --epochs 3 --output DIR]      (about 2-3 minutes on 2 cores)

using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines;
using Pipelines.Components.Models;
using Pipelines.Components.Schedules;
using Pipelines.FineTuning;
using Spectre.Console;

var epochsOption = new Option<double>("--epochs") { Description = "Passes of the encoder over the training data.", DefaultValueFactory = _ => 3 };
var outputOption = new Option<DirectoryInfo?>("--output") { Description = "Where the two models are saved (default: a new temporary directory)." };
var evaluateOption = new Option<FileInfo?>("--evaluate") { Description = "Only load this saved model, evaluate it on the validation set and print its metrics (used by the program itself)." };
var root = new RootCommand("Compares a stock ML.NET text classifier with a fine-tuned transformer encoder, both in ML.NET chains.") { epochsOption, outputOption, evaluateOption };
root.SetAction(parsed => parsed.GetValue(evaluateOption) is { } model
    ? Interop.EvaluateSaved(model.FullName)
    : Interop.Compare(parsed.GetValue(epochsOption), parsed.GetValue(outputOption)?.FullName ?? Directory.CreateTempSubdirectory("mlnet-interop-").FullName));
return root.Parse(args).Invoke();

/// <summary>The comparison and the fresh-process evaluation.</summary>
internal static class Interop
{
    private static readonly string[] Examples =
    [
        "Congratulations! You have been selected to receive a FREE vacation. Click here to claim your prize now!!!",
        "Hi Tom, the meeting moved to 3pm tomorrow; I attached the revised agenda. Thanks, Anna",
    ];

    public static int Compare(double epochs, string outputDirectory)
    {
        var context = new MLContext(seed: 2024);
        var train = Load(context, "train");
        var validation = Load(context, "validation");
        var baseline = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.Transforms.Text.FeaturizeText("Features", "Text"))
            .Append(context.MulticlassClassification.Trainers.SdcaMaximumEntropy("Label", "Features"))
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        const int MaximumSequenceLength = 256;
        var encoderOptions = new TextClassificationOptions
        {
            Model = new TransformerConfig(layerCount: 2, headCount: 4, channels: 64, contextLength: MaximumSequenceLength),
            MaximumSequenceLength = MaximumSequenceLength,
            Epochs = epochs,
            LearningRateSchedule = steps => new CosineSchedule(2e-3, steps, warmupSteps: steps / 10),
            ThreadCount = Environment.ProcessorCount,
        };

        var results = new List<Result>();
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(display =>
            {
                var baselineTask = display.AddTask("ML.NET FeaturizeText + SDCA maximum entropy").IsIndeterminate();
                results.Add(Measure(context, "ML.NET SDCA", baseline, train, validation, outputDirectory));
                baselineTask.Value = baselineTask.MaxValue;
                baselineTask.StopTask();

                var encoderTask = display.AddTask("Pipelines BPE + fine-tuned encoder", maxValue: 1);
                var encoder = context.Transforms.Conversion.MapValueToKey("Label")
                    .Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 2048))
                    .Append(context.MulticlassClassification.Trainers.TextClassifier(encoderOptions with
                    {
                        Progress = new Progress(report =>
                        {
                            encoderTask.MaxValue = report.TotalSteps;
                            encoderTask.Value = report.Step;
                            encoderTask.Description = $"Pipelines BPE + fine-tuned encoder: step {report.Step}/{report.TotalSteps}, loss {report.Loss:F3}";
                        }),
                    }))
                    .Append(context.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
                results.Add(Measure(context, "Pipelines encoder", encoder, train, validation, outputDirectory));
            });

        var table = new Table().AddColumns("Model", "Accuracy", "Macro-F1", "Log-loss", "Train s", "KiB", "Reload", "Process");
        foreach (var result in results)
            table.AddRow(result.Name, Invariant($"{result.Accuracy:P2}"), Invariant($"{result.MacroF1:F4}"), Invariant($"{result.LogLoss:F4}"), Invariant($"{result.TrainingSeconds:F1}"),
                Invariant($"{new FileInfo(result.ModelPath).Length / 1024}"), result.SameInFreshContext ? "[green]same[/]" : "[red]DIFFERENT[/]",
                result.SameInFreshProcess ? "[green]same[/]" : "[red]DIFFERENT[/]");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("Validation set of 400 messages. Reload: predictions of the saved model in a fresh MLContext; process: its metrics in a fresh process.");
        AnsiConsole.MarkupLine($"Models saved in {Markup.Escape(outputDirectory)}.");
        return results.All(result => result.SameInFreshContext && result.SameInFreshProcess) ? 0 : 1;
    }

    /// <summary>The re-launched program: load a saved model in this new process and print its metrics, one line, invariant.</summary>
    public static int EvaluateSaved(string modelPath)
    {
        var context = new MLContext(seed: 1);
        var model = context.Model.LoadModel(modelPath, out _);
        var metrics = context.MulticlassClassification.Evaluate(model.Transform(Load(context, "validation")), "Label", "Score", "PredictedLabel");
        Console.WriteLine(Invariant($"{metrics.MicroAccuracy:R} {metrics.LogLoss:R}"));
        return 0;
    }

    private static Result Measure(MLContext context, string name, IEstimator<ITransformer> pipeline, IDataView train, IDataView validation, string outputDirectory)
    {
        var clock = Stopwatch.StartNew();
        var model = pipeline.Fit(train);
        var trainingSeconds = clock.Elapsed.TotalSeconds;
        var metrics = context.MulticlassClassification.Evaluate(model.Transform(validation), "Label", "Score", "PredictedLabel");

        var path = Path.Combine(outputDirectory, $"{new string([.. name.Where(char.IsLetterOrDigit)])}.zip");
        context.Model.Save(model, train.Schema, path);
        var fresh = new MLContext(seed: 7);
        var loaded = fresh.Model.LoadModel(path, out _);
        var before = context.Data.CreateEnumerable<Prediction>(model.Transform(validation), reuseRowObject: false).ToList();
        var after = fresh.Data.CreateEnumerable<Prediction>(loaded.Transform(Load(fresh, "validation")), reuseRowObject: false).ToList();
        var sameInFreshContext = before.Count == after.Count && before.Zip(after).All(pair => pair.First.PredictedLabel == pair.Second.PredictedLabel && pair.First.Score.SequenceEqual(pair.Second.Score));
        var sameInFreshProcess = RunFreshProcess(path) == Invariant($"{metrics.MicroAccuracy:R} {metrics.LogLoss:R}");

        using var engine = fresh.Model.CreatePredictionEngine<Message, Prediction>(loaded);
        foreach (var text in Examples)
        {
            var prediction = engine.Predict(new Message { Text = text });
            AnsiConsole.MarkupLine($"{Markup.Escape(name)}: [bold]{prediction.PredictedLabel}[/] ({prediction.Score.Max():P1}) {Markup.Escape(text[..36])}...");
        }

        return new Result(name, metrics.MicroAccuracy, metrics.MacroF1(), metrics.LogLoss, trainingSeconds, path, sameInFreshContext, sameInFreshProcess);
    }

    /// <summary>Runs this program again with <c>--evaluate</c> and returns the line it printed.</summary>
    private static string RunFreshProcess(string modelPath)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!, ["--evaluate", modelPath]) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") start.ArgumentList.Insert(0, typeof(Interop).Assembly.Location);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0) AnsiConsole.MarkupLine($"[red]The fresh process failed:[/] {Markup.Escape(error.Result)}");
        return output.Result.Trim();
    }

    private static IDataView Load(MLContext context, string split) =>
        context.Data.LoadFromTextFile<Message>(Path.Combine(FindSpamData(), $"{split}.tsv"), separatorChar: '\t', hasHeader: true, allowQuoting: false);

    private static string FindSpamData() => Pipelines.Samples.RepositoryPath.Find(Path.Combine("samples", "data", "spam"));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record Result(string Name, double Accuracy, double MacroF1, double LogLoss, double TrainingSeconds, string ModelPath, bool SameInFreshContext, bool SameInFreshProcess);

    /// <summary>Reports on the training thread, so the display updates as steps finish.</summary>
    private sealed class Progress(Action<Pipelines.Components.Training.TrainingProgress> report) : IProgress<Pipelines.Components.Training.TrainingProgress>
    {
        public void Report(Pipelines.Components.Training.TrainingProgress value) => report(value);
    }
}

/// <summary>A row of the spam TSVs (<c>Label\tText</c>).</summary>
internal sealed class Message
{
    [LoadColumn(0)]
    public string Label { get; set; } = "";

    [LoadColumn(1)]
    public string Text { get; set; } = "";
}

/// <summary>What both pipelines add, after <c>MapKeyToValue("PredictedLabel")</c>.</summary>
internal sealed class Prediction
{
    public string PredictedLabel { get; set; } = "";

    public float[] Score { get; set; } = [];
}
