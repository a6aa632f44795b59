using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.Estimators.Tests.MachineLearning;
using Pipelines.FineTuning;

namespace Pipelines.Estimators.Tests.FineTuning;

/// <summary>The classifier inside one ML.NET chain with stock transforms: fit, transform, evaluate, serve, save and load.</summary>
[TestClass]
public sealed class TextClassifierChainTests
{
    private static readonly Lazy<Fitted> Shared = new(() =>
    {
        var context = new MLContext(seed: 1);
        var log = new List<string>();
        context.Log += (_, message) =>
        {
            lock (log) log.Add(message.Message);
        };
        var train = context.Data.LoadFromEnumerable(FineTuningData.Messages(240, seed: 1));
        var validation = context.Data.LoadFromEnumerable(FineTuningData.Messages(100, seed: 2));
        var model = FineTuningData.Pipeline(context, FineTuningData.TinyOptions).Fit(train);
        return new Fitted(context, model, train, validation, log);
    });

    [TestMethod]
    public void TheChainLearnsASeparableTaskAndMLNetsEvaluatorScoresIt()
    {
        var (context, model, _, validation, _) = Shared.Value;

        var scored = model.Transform(validation);
        var metrics = context.MulticlassClassification.Evaluate(scored, "Label", "Score", "PredictedLabel");

        Assert.IsGreaterThan(0.9, metrics.MicroAccuracy, metrics.ConfusionMatrix.GetFormattedConfusionTable());
        Assert.IsGreaterThan(0.9, metrics.MacroF1());
        Assert.IsLessThan(Math.Log(2), metrics.LogLoss, "better than a coin");
        var predictions = context.Data.CreateEnumerable<MessagePrediction>(scored, reuseRowObject: false).ToList();
        var labels = FineTuningData.Messages(100, seed: 2).Select(row => row.Label).ToList();
        var right = predictions.Zip(labels).Count(pair => pair.First.PredictedLabel == pair.Second);
        Assert.AreEqual(right / 100.0, metrics.MicroAccuracy, 1e-12, "ML.NET's accuracy is the share of predicted labels (as text, through MapKeyToValue) equal to the label");
        var classifier = model.OfType<TextClassificationTransformer>().Single();
        CollectionAssert.AreEquivalent(new[] { "ham", "spam" }, classifier.ClassNames!.ToArray());
    }

    [TestMethod]
    public void OutputColumnsAreTheLabelsKeyWithItsValuesAndProbabilitiesWithSlotNames()
    {
        var (_, model, train, _, _) = Shared.Value;
        var classifier = model.OfType<TextClassificationTransformer>().Single();
        var beforeLastStep = ((ITransformer)new TransformerChain<ITransformer>(model.Take(3).ToArray())).GetOutputSchema(train.Schema);

        var predicted = beforeLastStep["PredictedLabel"];
        var score = beforeLastStep["Score"];

        Assert.AreEqual(beforeLastStep["Label"].Type, predicted.Type, "the predicted label has the label's key type");
        VBuffer<ReadOnlyMemory<char>> keyValues = default;
        predicted.GetKeyValues(ref keyValues);
        CollectionAssert.AreEqual(classifier.ClassNames!.ToArray(), keyValues.DenseValues().Select(value => value.ToString()).ToArray());
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 2), score.Type);
        VBuffer<ReadOnlyMemory<char>> slotNames = default;
        score.GetSlotNames(ref slotNames);
        CollectionAssert.AreEqual(classifier.ClassNames!.ToArray(), slotNames.DenseValues().Select(value => value.ToString()).ToArray());
        var sums = FineTuningData.Scores(Shared.Value.Context, model, train).Select(row => row.Sum()).ToArray();
        Assert.IsTrue(sums.All(sum => Math.Abs(sum - 1) < 1e-5), "scores are probabilities");
    }

    [TestMethod]
    public void OutputSchemaBeforeTrainingMatchesTheFittedChain()
    {
        var context = new MLContext(seed: 1);
        var data = context.Data.LoadFromEnumerable(FineTuningData.Messages(10, seed: 3));
        var estimator = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 280))
            .Append(context.MulticlassClassification.Trainers.TextClassifier(FineTuningData.TinyOptions));

        var shape = estimator.GetOutputSchema(SchemaShapes.FromSchema(data.Schema));
        var fitted = SchemaShapes.FromSchema(estimator.Fit(data).GetOutputSchema(data.Schema));

        foreach (var name in new[] { "PredictedLabel", "Score" })
        {
            var expected = fitted.Single(column => column.Name == name);
            var actual = shape.Single(column => column.Name == name);
            Assert.AreEqual(SchemaShapes.Describe(expected), SchemaShapes.Describe(actual), name);
            CollectionAssert.AreEqual(expected.Annotations.Select(SchemaShapes.Describe).ToArray(), actual.Annotations.Select(SchemaShapes.Describe).ToArray(), $"{name}'s annotations");
            CollectionAssert.AreEqual(expected.Annotations.Select(column => column.Name).ToArray(), actual.Annotations.Select(column => column.Name).ToArray(), $"{name}'s annotation names");
        }

        // ML.NET's own schema checks run on our shape: MapKeyToValue needs the predicted label's KeyValues.
        var whole = FineTuningData.Pipeline(context, FineTuningData.TinyOptions).GetOutputSchema(SchemaShapes.FromSchema(data.Schema));
        Assert.AreEqual(TextDataViewType.Instance, whole.Single(column => column.Name == "PredictedLabel").ItemType);
    }

    [TestMethod]
    public void APredictionEngineGivesWhatTransformGivesAndEnginesOnSeveralThreadsAgree()
    {
        var (context, model, _, validation, _) = Shared.Value;
        var messages = FineTuningData.Messages(100, seed: 2);
        var expected = context.Data.CreateEnumerable<MessagePrediction>(model.Transform(validation), reuseRowObject: false).ToList();

        var results = Enumerable.Range(0, 3).AsParallel().Select(_ =>
        {
            using var engine = context.Model.CreatePredictionEngine<Message, MessagePrediction>(model);
            return messages.Select(message => engine.Predict(new Message { Text = message.Text })).ToList();
        }).ToList();

        foreach (var predictions in results)
        {
            for (var row = 0; row < expected.Count; row++)
            {
                Assert.AreEqual(expected[row].PredictedLabel, predictions[row].PredictedLabel, $"row {row}");
                CollectionAssert.AreEqual(expected[row].Score, predictions[row].Score, $"row {row}");
            }
        }
    }

    [TestMethod]
    public void TrainingWritesToTheContextsLog()
    {
        var log = Shared.Value.Log;
        lock (log)
        {
            Assert.IsTrue(log.Any(message => message.Contains("Fine-tuning a 2-class encoder", StringComparison.Ordinal)), string.Join('\n', log.TakeLast(20)));
            Assert.IsTrue(log.Any(message => message.Contains("step 80/80", StringComparison.Ordinal)));
            Assert.IsTrue(log.Any(message => message.Contains("Fine-tuned for 80 steps", StringComparison.Ordinal)));
        }
    }

    [TestMethod]
    public void ASavedChainLoadsInAFreshContextAndAFreshProcessWithIdenticalScores()
    {
        var (context, model, train, validation, _) = Shared.Value;
        var path = Path.Combine(Path.GetTempPath(), $"pipelines-text-classifier-{Guid.NewGuid():N}.zip");
        try
        {
            context.Model.Save(model, train.Schema, path);
            var expected = context.Data.CreateEnumerable<MessagePrediction>(model.Transform(validation), reuseRowObject: false).ToList();

            var fresh = new MLContext(seed: 9);
            var loaded = fresh.Model.Load(path, out var schema);
            Assert.AreEqual(train.Schema.Count, schema.Count);
            var loadedClassifier = ((TransformerChain<ITransformer>)loaded).OfType<TextClassificationTransformer>().Single();
            Assert.IsNull(loadedClassifier.TrainingResult, "a loaded model has no training run");
            Assert.AreEqual(model.OfType<TextClassificationTransformer>().Single().ModelConfig, loadedClassifier.ModelConfig);
            var again = fresh.Data.CreateEnumerable<MessagePrediction>(loaded.Transform(fresh.Data.LoadFromEnumerable(FineTuningData.Messages(100, seed: 2))), reuseRowObject: false).ToList();
            for (var row = 0; row < expected.Count; row++)
            {
                Assert.AreEqual(expected[row].PredictedLabel, again[row].PredictedLabel, $"row {row}");
                CollectionAssert.AreEqual(expected[row].Score, again[row].Score, $"row {row}");
            }

            var texts = FineTuningData.Messages(100, seed: 2).Take(20).Select(message => message.Text).ToList();
            var printed = ModelProbe.Run(path, texts);
            CollectionAssert.Contains(printed.Where(line => line[0] == "transformer").Select(line => line[1]).ToArray(), nameof(TextClassificationTransformer));
            for (var row = 0; row < texts.Count; row++)
            {
                var position = row.ToString(CultureInfo.InvariantCulture);
                var score = printed.Single(fields => fields[0] == position && fields[1] == "Score")[2];
                Assert.AreEqual(string.Join(" ", expected[row].Score.Select(value => value.ToString("R", CultureInfo.InvariantCulture))), score, $"row {row} in the other process");
                Assert.AreEqual(expected[row].PredictedLabel, printed.Single(fields => fields[0] == position && fields[1] == "PredictedLabel")[2]);
            }
        }
        finally
        {
            File.Delete(path);
            File.Delete(Path.ChangeExtension(path, ".texts.txt"));
        }
    }

    private sealed record Fitted(MLContext Context, TransformerChain<Microsoft.ML.Transforms.KeyToValueMappingTransformer> Model, IDataView Train, IDataView Validation, List<string> Log);
}
