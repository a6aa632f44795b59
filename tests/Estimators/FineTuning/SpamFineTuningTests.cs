using System.Diagnostics;
using Pipelines.Components.Models;
using Pipelines.FineTuning;

namespace Pipelines.Estimators.Tests.FineTuning;

/// <summary>Fine-tuning on a slice of the shipped spam data must beat predicting the majority class.</summary>
[TestClass]
public sealed class SpamFineTuningTests
{
    [TestMethod]
    public void ASmallEncoderOnASliceOfTheSpamDataBeatsTheMajorityBaseline()
    {
        var clock = Stopwatch.StartNew();
        var trainRows = FineTuningData.SpamRows("train").Take(400).ToArray();
        var validationRows = FineTuningData.SpamRows("validation").GroupBy(row => row.Label).SelectMany(group => group.Take(100)).ToArray(); // the file holds ham, then spam
        var tokenizer = FineTuningData.TrainTokenizer(trainRows.Select(row => row.Text), vocabularySize: 512);
        var context = new PipelineContext(3);
        var train = context.Data.LoadFromEnumerable(trainRows.Select(row => new TextLabelRow { Tokens = tokenizer.Encode(row.Text), Label = row.Label }));
        var validation = context.Data.LoadFromEnumerable(validationRows.Select(row => new TextLabelRow { Tokens = tokenizer.Encode(row.Text), Label = row.Label }));
        var options = new TextClassificationOptions
        {
            Model = new TransformerConfig(layerCount: 1, headCount: 2, channels: 32, contextLength: 64, vocabularySize: tokenizer.VocabularySize),
            MaximumSequenceLength = 64,
            BatchSize = 16,
            Steps = 100,
            ThreadCount = 1,
            LearningRateSchedule = steps => new Components.Schedules.CosineSchedule(3e-3, steps, warmupSteps: steps / 10),
        };

        Console.WriteLine($"tokenised in {clock.Elapsed.TotalSeconds:F1} s");
        var model = context.FineTuning.TextClassification(options).Fit(train, validation);
        var metrics = context.FineTuning.Evaluate(model.Transform(validation));

        Console.WriteLine($"trained and evaluated in {clock.Elapsed.TotalSeconds:F1} s: accuracy {metrics.Accuracy:P1}, macro-F1 {metrics.MacroF1:F3}, log-loss {metrics.LogLoss:F3}");
        var majority = validationRows.GroupBy(row => row.Label).Max(group => group.Count()) / (double)validationRows.Length;
        Assert.IsGreaterThan(majority + 0.1, metrics.Accuracy, $"majority baseline {majority:P1}\n{metrics.ConfusionMatrix.GetFormattedConfusionTable()}");
    }
}
