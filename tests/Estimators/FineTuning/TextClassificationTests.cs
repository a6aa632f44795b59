using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using Pipelines.Components.Training;
using Pipelines.Data;
using Pipelines.FineTuning;

namespace Pipelines.Estimators.Tests.FineTuning;

[TestClass]
public sealed class TextClassificationTests
{
    private static readonly TransformerConfig Tiny = new(layerCount: 1, headCount: 2, channels: 16, contextLength: 8, vocabularySize: FineTuningData.MarkerVocabulary);

    private static TextClassificationOptions TinyOptions => new()
    {
        Model = Tiny,
        MaximumSequenceLength = 8,
        BatchSize = 16,
        Steps = 150,
        LearningRateSchedule = steps => new Components.Schedules.CosineSchedule(3e-3, steps, warmupSteps: steps / 10),
        ThreadCount = 1,
        Seed = 7,
    };

    [TestMethod]
    public void ATinyEncoderLearnsASeparableTaskAndEvaluatesAboveNinetyPercent()
    {
        var context = new PipelineContext(1);
        var train = context.Data.LoadFromEnumerable(FineTuningData.MarkerRows(400, seed: 1));
        var validation = context.Data.LoadFromEnumerable(FineTuningData.MarkerRows(200, seed: 2));

        var model = context.FineTuning.TextClassification(TinyOptions).Fit(train, validation);
        var metrics = context.FineTuning.Evaluate(model.Transform(validation));

        Assert.IsGreaterThan(0.9, metrics.Accuracy, metrics.ConfusionMatrix.GetFormattedConfusionTable());
        Assert.IsGreaterThan(0.9, metrics.MacroF1);
        Assert.IsLessThan(Math.Log(2), metrics.LogLoss, "better than a coin");
        CollectionAssert.AreEqual(new[] { "no", "yes" }, model.Classes.ToArray());
        Assert.AreEqual(150L, model.TrainingResult!.Steps);
        Assert.AreEqual(model.TrainingResult.FinalValidation!.Accuracy, metrics.Accuracy, 1e-12, "the trainer's evaluation and the transformer's predictions agree");
    }

    [TestMethod]
    public void PredictionsHaveTheLabelsTypeAndAreComputedLazily()
    {
        var context = new PipelineContext(1);
        var rows = FineTuningData.MarkerRows(40, seed: 3);
        var booleans = context.Data.LoadFromEnumerable(rows.Select(row => new BooleanLabelRow { Tokens = row.Tokens, Label = row.Label == "yes" }));
        var keys = context.Data.LoadFromEnumerable(rows.Select((row, index) => new KeyLabelRow { Tokens = row.Tokens, Label = (uint)(index % 3 + 1) }));
        var options = TinyOptions with { Steps = 3 };

        var booleanModel = context.FineTuning.TextClassification(options).Fit(booleans);
        var keyModel = context.FineTuning.TextClassification(options).Fit(keys);
        var booleanOutput = booleanModel.Transform(booleans);
        var keyOutput = keyModel.Transform(keys);

        Assert.AreEqual(BooleanDataViewType.Instance, booleanOutput.Schema["PredictedLabel"].Type);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 2), booleanOutput.Schema["Score"].Type);
        Assert.AreEqual(new KeyDataViewType(3), keyOutput.Schema["PredictedLabel"].Type);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 3), keyOutput.Schema["Score"].Type);
        CollectionAssert.AreEqual(new[] { "False", "True" }, booleanModel.Classes.ToArray());
        using var cursor = keyOutput.GetRowCursor(keyOutput.Schema);
        var predicted = cursor.GetGetter<uint>(keyOutput.Schema["PredictedLabel"]);
        var score = cursor.GetGetter<ReadOnlyMemory<float>>(keyOutput.Schema["Score"]);
        Assert.IsTrue(cursor.MoveNext());
        uint key = 0;
        ReadOnlyMemory<float> scores = default;
        predicted(ref key);
        score(ref scores);
        Assert.AreEqual(1f, scores.Span[0] + scores.Span[1] + scores.Span[2], 1e-5f);
        Assert.AreEqual(ClassifierTrainer.ArgMax(scores.Span) + 1, (int)key);

        var shape = context.FineTuning.TextClassification(options).GetOutputSchema(SchemaShape.Create(keys.Schema));
        Assert.IsTrue(shape.TryFindColumn("PredictedLabel", out var predictedShape) && predictedShape.IsKey);

        // A bad row fails only when its prediction is read, naming the row.
        var bad = booleanModel.Transform(context.Data.LoadFromEnumerable(new[] { new BooleanLabelRow { Tokens = [1] }, new BooleanLabelRow { Tokens = [2, 99] } }));
        using var badCursor = bad.GetRowCursor(bad.Schema);
        var badScore = badCursor.GetGetter<ReadOnlyMemory<float>>(bad.Schema["Score"]);
        Assert.IsTrue(badCursor.MoveNext());
        Assert.IsTrue(badCursor.MoveNext(), "moving past a row computes nothing");
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => badScore(ref scores));
        StringAssert.Contains(error.Message, "Row 1 of column 'Tokens' holds token id 99 at position 1");
    }

    [TestMethod]
    public void ASavedModelLoadsAndPredictsIdentically()
    {
        var context = new PipelineContext(1);
        var data = context.Data.LoadFromEnumerable(FineTuningData.MarkerRows(60, seed: 4));
        var model = context.FineTuning.TextClassification(TinyOptions with { Steps = 20 }).Fit(data);
        using var file = new MemoryStream();
        context.Model.Save(model, data.Schema, file);
        file.Position = 0;

        var loaded = context.Model.Load(file, out var schema);

        Assert.IsInstanceOfType<TextClassificationTransformer>(loaded);
        Assert.IsNotNull(schema);
        var expected = context.Data.CreateEnumerable<TextPrediction>(model.Transform(data), reuseRowObject: false).ToList();
        var actual = context.Data.CreateEnumerable<TextPrediction>(loaded.Transform(data), reuseRowObject: false).ToList();
        Assert.AreEqual(60, actual.Count);
        for (var row = 0; row < expected.Count; row++)
        {
            Assert.AreEqual(expected[row].PredictedLabel, actual[row].PredictedLabel);
            CollectionAssert.AreEqual(expected[row].Score, actual[row].Score, $"row {row}");
        }
    }

    [TestMethod]
    public void AResumedRunGivesTheSameModelAsAnUninterruptedOne()
    {
        var path = Path.Combine(Path.GetTempPath(), $"text-classification-{Guid.NewGuid():N}.ckpt");
        try
        {
            var context = new PipelineContext(1);
            var data = context.Data.LoadFromEnumerable(FineTuningData.MarkerRows(50, seed: 5));
            var options = TinyOptions with { Steps = 10, BatchSize = 6, CheckpointInterval = 3, CheckpointPath = path };
            var straight = context.FineTuning.TextClassification(options).Fit(data);

            using var cancellation = new CancellationTokenSource();
            var stopAtFive = new SynchronousProgress(report => { if (report.Step == 5) cancellation.Cancel(); });
            Assert.ThrowsExactly<OperationCanceledException>(() => context.FineTuning.TextClassification(options).Fit(data, null, stopAtFive, cancellation.Token));
            var resumed = context.FineTuning.TextClassification(options with { ResumePath = path }).Fit(data);

            Assert.AreEqual(5L, resumed.TrainingResult!.StepsThisRun);
            var expected = context.Data.CreateEnumerable<TextPrediction>(straight.Transform(data), reuseRowObject: false).ToList();
            var actual = context.Data.CreateEnumerable<TextPrediction>(resumed.Transform(data), reuseRowObject: false).ToList();
            for (var row = 0; row < expected.Count; row++) CollectionAssert.AreEqual(expected[row].Score, actual[row].Score, $"row {row}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void SchemaErrorsNameTheColumn()
    {
        var context = new PipelineContext(1);
        var data = context.Data.LoadFromEnumerable(FineTuningData.MarkerRows(10, seed: 1));
        var floats = context.Data.LoadFromEnumerable(new[] { new FloatLabelRow { Tokens = [1], Label = 1 } });

        var missing = Assert.ThrowsExactly<SchemaMismatchException>(() => context.FineTuning.TextClassification("Ids", "Label").Fit(data));
        Assert.AreEqual("Ids", missing.ColumnName);
        var mistyped = Assert.ThrowsExactly<SchemaMismatchException>(() => context.FineTuning.TextClassification().GetOutputSchema(SchemaShape.Create(floats.Schema)));
        Assert.AreEqual("Label", mistyped.ColumnName);
        StringAssert.Contains(mistyped.Message, "Single");
        var model = context.FineTuning.TextClassification(TinyOptions with { Steps = 1 }).Fit(data);
        Assert.AreEqual("Tokens", Assert.ThrowsExactly<SchemaMismatchException>(() => model.Transform(context.Data.LoadFromEnumerable(new[] { new ScoredRow { Score = [0, 0, 1] } }))).ColumnName);
        var keys = context.Data.LoadFromEnumerable(new[] { new KeyLabelRow { Tokens = [1], Label = 1 } });
        var otherType = Assert.ThrowsExactly<SchemaMismatchException>(() => context.FineTuning.TextClassification(TinyOptions).Fit(data, keys));
        Assert.AreEqual("Label", otherType.ColumnName);
    }

    [TestMethod]
    public void BadOptionsAndDataAreRejectedNamingTheOptionOrTheRow()
    {
        var context = new PipelineContext(1);
        var batch = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TextClassificationOptions { BatchSize = 0 });
        Assert.AreEqual("BatchSize", batch.ParamName);
        Assert.AreEqual(0, batch.ActualValue);
        Assert.AreEqual("Epochs", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TextClassificationOptions { Epochs = double.NaN }).ParamName);
        Assert.AreEqual("Steps", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TextClassificationOptions { Steps = 0 }).ParamName);
        Assert.AreEqual("ThreadCount", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TextClassificationOptions { ThreadCount = 0 }).ParamName);
        Assert.AreEqual("TokensColumnName", Assert.ThrowsExactly<ArgumentException>(() => new TextClassificationOptions { TokensColumnName = " " }).ParamName);
        var tooLong = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.FineTuning.TextClassification(TinyOptions with { MaximumSequenceLength = 9 }));
        Assert.AreEqual("MaximumSequenceLength", tooLong.ParamName);
        Assert.AreEqual("CheckpointPath", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.FineTuning.TextClassification(TinyOptions with { CheckpointInterval = 5 })).ParamName);

        var data = context.Data.LoadFromEnumerable(FineTuningData.MarkerRows(10, seed: 1));
        var vocabulary = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            context.FineTuning.TextClassification(TinyOptions with { Model = new TransformerConfig(1, 2, 16, 8, vocabularySize: 6) }).Fit(data));
        Assert.AreEqual("Model", vocabulary.ParamName);
        StringAssert.Contains(vocabulary.Message, "vocabulary of 6 tokens does not cover token id");
        StringAssert.Contains(vocabulary.Message, "VocabularySize of at least 12");

        var oneClass = context.Data.LoadFromEnumerable(new[] { new TextLabelRow { Tokens = [1], Label = "spam" }, new TextLabelRow { Tokens = [2], Label = "spam" } });
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => context.FineTuning.TextClassification(TinyOptions).Fit(oneClass)).Message, "holds 1 class ('spam')");
        var unseen = context.Data.LoadFromEnumerable(new[] { new TextLabelRow { Tokens = [1], Label = "maybe" } });
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => context.FineTuning.TextClassification(TinyOptions).Fit(data, unseen)).Message,
            "Row 0 of the validation data has the label 'maybe'");
        var empty = context.Data.LoadFromEnumerable(new[] { new TextLabelRow { Tokens = [1], Label = "a" }, new TextLabelRow { Tokens = [], Label = "b" } });
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => context.FineTuning.TextClassification(TinyOptions).Fit(empty)).Message, "Row 1 of the training data has no tokens");
    }

    [TestMethod]
    public void APretrainedGptBodyStartsTheEncoderAndAMismatchedOneIsRejected()
    {
        var path = Path.Combine(Path.GetTempPath(), $"gpt-{Guid.NewGuid():N}.safetensors");
        try
        {
            var context = new PipelineContext(1);
            var data = context.Data.LoadFromEnumerable(FineTuningData.MarkerRows(30, seed: 6));
            GptModel.Create(Tiny, seed: 99, Parallelism.Sequential).Parameters.SaveSafeTensors(path);
            var options = TinyOptions with { Steps = 1, LearningRateSchedule = _ => new Components.Schedules.ConstantSchedule(0) };

            var pretrained = context.FineTuning.TextClassification(options with { PretrainedWeightsPath = path }).Fit(data);
            var fresh = context.FineTuning.TextClassification(options).Fit(data);

            // With a zero learning rate the weights are the initial ones: the body is the GPT's, so the scores differ from a fresh start.
            var pretrainedScores = context.Data.CreateEnumerable<TextPrediction>(pretrained.Transform(data), reuseRowObject: false).Select(row => row.Score[0]).ToArray();
            var freshScores = context.Data.CreateEnumerable<TextPrediction>(fresh.Transform(data), reuseRowObject: false).Select(row => row.Score[0]).ToArray();
            CollectionAssert.AreNotEqual(freshScores, pretrainedScores);

            var wide = options with { Model = new TransformerConfig(1, 2, 32, 8, FineTuningData.MarkerVocabulary), PretrainedWeightsPath = path };
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => context.FineTuning.TextClassification(wide).Fit(data)).Message, "'wte.weight'");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Reports on the training thread.</summary>
    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
