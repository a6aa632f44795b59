using System.Globalization;
using Microsoft.ML;
using Pipelines;
using Pipelines.Components.Models;
using Pipelines.FineTuning;

/// <summary>
/// Makes the committed model fixture of tests/Estimators/Fixtures: a stock-and-ours chain (MapValueToKey, our BPE
/// tokenizer, our text classifier, MapKeyToValue) saved by the pinned ML.NET, and the scores it gives.
/// Usage: ModelLoadProbe --make-fixture &lt;directory&gt;
/// </summary>
internal static class FixtureMaker
{
    public static readonly string[] Texts =
    [
        "win a free prize now", "the meeting moved to monday", "click for your cash bonus", "notes from the project team",
        "free offer for you today", "the agenda for lunch", "you are a winner click now", "see the report please",
    ];

    public static int Make(string directory)
    {
        Directory.CreateDirectory(directory);
        var context = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 64).Select(index => new LabeledRow
        {
            Text = Texts[index % Texts.Length] + " " + index.ToString(CultureInfo.InvariantCulture),
            Label = index % 2 == 0 ? "spam" : "ham",
        }).ToArray();
        var data = context.Data.LoadFromEnumerable(rows);
        var options = new TextClassificationOptions
        {
            Model = new TransformerConfig(layerCount: 1, headCount: 2, channels: 16, contextLength: 32),
            MaximumSequenceLength = 32,
            BatchSize = 8,
            Steps = 20,
            ThreadCount = 1,
            Seed = 3,
        };
        var model = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 270))
            .Append(context.MulticlassClassification.Trainers.TextClassifier(options))
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
            .Fit(data);
        context.Model.Save(model, data.Schema, Path.Combine(directory, "chain-mlnet-6.0.0.zip"));
        var scored = context.Data.CreateEnumerable<ScoredRow>(model.Transform(context.Data.LoadFromEnumerable(
            Texts.Select(text => new LabeledRow { Text = text }))), reuseRowObject: false);
        File.WriteAllLines(Path.Combine(directory, "chain-mlnet-6.0.0.expected.tsv"), scored.Select((row, index) =>
            $"{Texts[index]}\t{row.PredictedLabel}\t{string.Join(" ", row.Score.Select(value => value.ToString("R", CultureInfo.InvariantCulture)))}"));
        return 0;
    }

    internal sealed class LabeledRow
    {
        public string Text { get; set; } = "";

        public string Label { get; set; } = "";
    }

    internal sealed class ScoredRow
    {
        public string PredictedLabel { get; set; } = "";

        public float[] Score { get; set; } = [];
    }
}
