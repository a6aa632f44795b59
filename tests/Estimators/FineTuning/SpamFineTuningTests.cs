using System.Diagnostics;
using Microsoft.ML;
using Pipelines.Components.Models;
using Pipelines.Components.Schedules;

namespace Pipelines.Estimators.Tests.FineTuning;

/// <summary>Fine-tuning on a slice of the shipped spam data must beat predicting the majority class.</summary>
[TestClass]
public sealed class SpamFineTuningTests
{
    [TestMethod]
    [TestCategory("Slow")]
    public void ASmallEncoderOnASliceOfTheSpamDataBeatsTheMajorityBaseline()
    {
        var clock = Stopwatch.StartNew();
        var context = new MLContext(seed: 3);
        var train = context.Data.LoadFromEnumerable(FineTuningData.SpamRows("train").Take(400));
        var validationRows = FineTuningData.SpamRows("validation").GroupBy(row => row.Label).SelectMany(group => group.Take(100)).ToArray(); // the file holds ham, then spam
        var validation = context.Data.LoadFromEnumerable(validationRows);
        var options = FineTuningData.TinyOptions with
        {
            Model = new TransformerConfig(layerCount: 1, headCount: 2, channels: 32, contextLength: 64),
            MaximumSequenceLength = 64,
            Steps = 100,
            LearningRateSchedule = steps => new CosineSchedule(3e-3, steps, warmupSteps: steps / 10),
        };
        var pipeline = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 512))
            .Append(context.MulticlassClassification.Trainers.TextClassifier(options));

        var model = pipeline.Fit(train);
        var metrics = context.MulticlassClassification.Evaluate(model.Transform(validation), "Label", "Score", "PredictedLabel");

        Console.WriteLine($"trained and evaluated in {clock.Elapsed.TotalSeconds:F1} s: accuracy {metrics.MicroAccuracy:P1}, macro-F1 {metrics.MacroF1():F3}, log-loss {metrics.LogLoss:F3}");
        var majority = validationRows.GroupBy(row => row.Label).Max(group => group.Count()) / (double)validationRows.Length;
        Assert.IsGreaterThan(majority + 0.1, metrics.MicroAccuracy, $"majority baseline {majority:P1}\n{metrics.ConfusionMatrix.GetFormattedConfusionTable()}");
    }
}
