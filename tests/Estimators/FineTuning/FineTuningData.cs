using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.Components.Models;
using Pipelines.Components.Schedules;
using Pipelines.FineTuning;
using Pipelines.Tests.Support;

namespace Pipelines.Estimators.Tests.FineTuning;

/// <summary>A text and its label, as loaded.</summary>
public sealed class Message
{
    public string Text { get; set; } = "";

    public string Label { get; set; } = "";
}

/// <summary>What the classifier chain adds, read back after <c>MapKeyToValue("PredictedLabel")</c>.</summary>
public sealed class MessagePrediction
{
    public string PredictedLabel { get; set; } = "";

    public float[] Score { get; set; } = [];
}

/// <summary>The scores alone, for models without <c>MapKeyToValue</c>.</summary>
public sealed class ScoreRow
{
    public float[] Score { get; set; } = [];
}

/// <summary>Data, options and pipelines for the fine-tuning tests.</summary>
internal static class FineTuningData
{
    private static readonly string[] SpamWords = ["win", "free", "prize", "cash", "offer", "click", "bonus", "winner"];
    private static readonly string[] HamWords = ["meeting", "lunch", "report", "project", "agenda", "notes", "team", "schedule"];
    private static readonly string[] Filler = ["the", "a", "please", "today", "now", "for", "you", "our", "new", "see", "this", "is"];

    /// <summary>
    /// Short messages of 4..8 words: "spam" ones hold a word of one list, "ham" ones of another, among shared filler
    /// words, the class word within the first three words (so truncation keeps it).
    /// </summary>
    public static Message[] Messages(int count, int seed)
    {
        var random = new Random(seed);
        var rows = new Message[count];
        for (var row = 0; row < count; row++)
        {
            var spam = random.Next(2) == 1;
            var words = Enumerable.Range(0, 4 + random.Next(5)).Select(_ => Filler[random.Next(Filler.Length)]).ToArray();
            var classWords = spam ? SpamWords : HamWords;
            words[random.Next(3)] = classWords[random.Next(classWords.Length)];
            rows[row] = new Message { Text = string.Join(' ', words), Label = spam ? "spam" : "ham" };
        }

        return rows;
    }

    /// <summary>A tiny encoder that learns <see cref="Messages"/> in a few seconds on one thread.</summary>
    public static TextClassificationOptions TinyOptions => new()
    {
        Model = new TransformerConfig(layerCount: 1, headCount: 2, channels: 16, contextLength: 48),
        MaximumSequenceLength = 48,
        BatchSize = 16,
        Steps = 80,
        LearningRateSchedule = steps => new CosineSchedule(5e-3, steps, warmupSteps: steps / 10),
        ThreadCount = 1,
        Seed = 7,
    };

    /// <summary>Stock and ours in one chain: label to key, tokenizer, classifier, predicted key back to text.</summary>
    public static EstimatorChain<Microsoft.ML.Transforms.KeyToValueMappingTransformer> Pipeline(MLContext context, TextClassificationOptions options) =>
        context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 300))
            .Append(context.MulticlassClassification.Trainers.TextClassifier(options))
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

    /// <summary>The scores of every row of <paramref name="data"/> through <paramref name="model"/>.</summary>
    public static float[][] Scores(MLContext context, ITransformer model, IDataView data) =>
        [.. context.Data.CreateEnumerable<ScoreRow>(model.Transform(data), reuseRowObject: false).Select(row => row.Score)];

    /// <summary>Rows of a spam TSV (<c>Label\tText</c>, header, no quoting).</summary>
    public static Message[] SpamRows(string split) =>
        [.. File.ReadLines(Path.Combine(RepositoryRoot.FullName, "samples", "data", "spam", $"{split}.tsv")).Skip(1).Select(line =>
        {
            var tab = line.IndexOf('\t');
            return new Message { Label = line[..tab], Text = line[(tab + 1)..] };
        })];
}
