// The consumer app of the packaging test (tests/Packaging/PackageConsumerTests.cs), built OUTSIDE the repository from
// the packed packages only: stock ML.NET (MapValueToKey) + our BPE + a few fine-tuning steps + Model.Save, then, in
// a second process of the same app, Model.Load + a prediction engine. With -p:DefineConstants=TORCHSHARP it trains on
// the TorchSharp CPU backend (the app then references Pipelines.Components.TorchSharp and libtorch-cpu-linux-x64).
//
//   dotnet run -- train MODEL.zip       prints "trained LABEL SCORE SCORE" for each probe text
//   dotnet run -- predict MODEL.zip     prints "reloaded LABEL SCORE SCORE" for each, from the reloaded model
// and then "classifier TYPE", the backend model that scores (TorchClassifier while trained on TorchSharp; a model
// always loads onto the managed engine's ManagedClassifier).
using System.Globalization;
using Microsoft.ML;
using Pipelines;
using Pipelines.Components.Models;
using Pipelines.FineTuning;

string[] probes = ["win a free prize now, click here", "see you at the meeting on monday"];
var (mode, path) = (args[0], args[1]);
var context = new MLContext(seed: 1);
ITransformer model;
if (mode == "train")
{
    var data = context.Data.LoadFromEnumerable(Message.Corpus);
    var pipeline = context.Transforms.Conversion.MapValueToKey("Label")
        .Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 300))
        .Append(context.MulticlassClassification.Trainers.TextClassifier(new TextClassificationOptions
        {
            Model = new TransformerConfig(layerCount: 1, headCount: 2, channels: 16, contextLength: 32),
            MaximumSequenceLength = 32,
            BatchSize = 4,
            Steps = 6,
            ThreadCount = 1,
#if TORCHSHARP
            Backend = new Pipelines.Components.TorchSharp.Backends.TorchSharpBackend("cpu"),
#endif
        }))
        .Append(context.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
    model = pipeline.Fit(data);
    context.Model.Save(model, data.Schema, path);
}
else
{
    model = context.Model.Load(path, out _);
}
using var engine = context.Model.CreatePredictionEngine<Message, Prediction>(model);
foreach (var prediction in probes.Select(text => engine.Predict(new Message { Text = text })))
    Console.WriteLine(string.Join(' ', [mode == "train" ? "trained" : "reloaded", prediction.PredictedLabel,
        .. prediction.Score.Select(score => score.ToString("R", CultureInfo.InvariantCulture))]));
var classifier = ((IEnumerable<ITransformer>)model).OfType<TextClassificationTransformer>().Single();
Console.WriteLine($"classifier {classifier.Model.GetType().Name}");

/// <summary>An input row: a label and a text.</summary>
public sealed class Message
{
    /// <summary>"spam" or "ham".</summary>
    public string Label { get; set; } = "";

    /// <summary>The message.</summary>
    public string Text { get; set; } = "";

    /// <summary>Twelve short messages, six of each label.</summary>
    public static Message[] Corpus { get; } =
    [
        new() { Label = "spam", Text = "win a free prize now" }, new() { Label = "ham", Text = "lunch at noon tomorrow?" },
        new() { Label = "spam", Text = "click here for free money" }, new() { Label = "ham", Text = "the meeting moved to monday" },
        new() { Label = "spam", Text = "you won a free cruise, call now" }, new() { Label = "ham", Text = "thanks for the notes from class" },
        new() { Label = "spam", Text = "cheap pills, free shipping" }, new() { Label = "ham", Text = "can you send me the report" },
        new() { Label = "spam", Text = "claim your free prize today" }, new() { Label = "ham", Text = "see you at the game tonight" },
        new() { Label = "spam", Text = "free money, click now" }, new() { Label = "ham", Text = "mum says dinner is at seven" },
    ];
}

/// <summary>An output row.</summary>
public sealed class Prediction
{
    /// <summary>The predicted label, mapped back to its value.</summary>
    public string PredictedLabel { get; set; } = "";

    /// <summary>One probability per class.</summary>
    public float[] Score { get; set; } = [];
}
