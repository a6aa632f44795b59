using Pipelines.Tests.Support;
using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.Components.Backends;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Schedules;
using Pipelines.Components.Serialization;
using Pipelines.Components.Training;
using Pipelines.FineTuning;

namespace Pipelines.Estimators.Tests.FineTuning;

/// <summary>Seeds, what reaches Fit inside a chain through the options (validation, progress, cancellation, checkpoints), and loading.</summary>
[TestClass]
public sealed class TextClassifierTrainingTests
{
    [TestMethod]
    public void TheSameContextSeedGivesTheSameScoresAndAnExplicitSeedSurvivesAStockTransformBetweenTokenizerAndClassifier()
    {
        var options = FineTuningData.TinyOptions with { Seed = null, Steps = 20 };
        float[][] Run(int contextSeed)
        {
            var context = new MLContext(contextSeed);
            var data = context.Data.LoadFromEnumerable(FineTuningData.Messages(60, seed: 6));
            return FineTuningData.Scores(context, FineTuningData.Pipeline(context, options).Fit(data), data);
        }

        var first = Run(5);
        var second = Run(5);
        CollectionAssert.AreEqual(first.SelectMany(row => row).ToArray(), second.SelectMany(row => row).ToArray(), "same context seed, same scores");
        var seedFive = new MLContext(5).MulticlassClassification.Trainers.TextClassifier(options).Seed;
        Assert.AreEqual(seedFive, new MLContext(5).MulticlassClassification.Trainers.TextClassifier(options).Seed, "the seed is drawn from the context's generator");

        var direct = new MLContext(1);
        var rows = direct.Data.LoadFromEnumerable(FineTuningData.Messages(60, seed: 6));
        var seeded = options with { Seed = 11 };
        var plain = FineTuningData.Scores(direct, FineTuningData.Pipeline(direct, seeded).Fit(rows), rows);
        var withCopy = direct.Transforms.Conversion.MapValueToKey("Label")
            .Append(direct.Transforms.Text.TrainBytePairEncoding(vocabularySize: 300))
            .Append(direct.Transforms.CopyColumns("TokenCopy", "Tokens"))
            .Append(direct.MulticlassClassification.Trainers.TextClassifier(seeded with { TokensColumnName = "TokenCopy" }))
            .Append(direct.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var copied = FineTuningData.Scores(direct, withCopy.Fit(rows), rows);
        CollectionAssert.AreEqual(plain.SelectMany(row => row).ToArray(), copied.SelectMany(row => row).ToArray(), "the vocabulary travels in the copied column");
    }

    [TestMethod]
    public void ValidationProgressAndCheckpointsReachFitInsideAChainAndAResumedRunMatchesAnUninterruptedOne()
    {
        var path = Path.Combine(Path.GetTempPath(), $"text-classifier-{Guid.NewGuid():N}.ckpt");
        try
        {
            var context = new MLContext(seed: 1);
            var raw = context.Data.LoadFromEnumerable(FineTuningData.Messages(80, seed: 7));
            var prefix = context.Transforms.Conversion.MapValueToKey("Label").Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 300)).Fit(raw);
            var train = prefix.Transform(raw);
            var validation = prefix.Transform(context.Data.LoadFromEnumerable(FineTuningData.Messages(40, seed: 8)));
            var reports = new List<TrainingProgress>();
            var options = FineTuningData.TinyOptions with
            {
                Steps = 10, BatchSize = 6, CheckpointInterval = 3, CheckpointPath = path, ValidationSet = validation, Progress = new SynchronousProgress<TrainingProgress>(reports.Add),
            };
            IEstimator<ITransformer> Chain(TextClassificationOptions chosen) =>
                context.Transforms.CopyColumns("Kept", "Label").Append(context.MulticlassClassification.Trainers.TextClassifier(chosen));

            var straight = (IEnumerable<ITransformer>)Chain(options).Fit(train);
            var classifier = straight.OfType<TextClassificationTransformer>().Single();
            Assert.AreEqual(10, reports.Count, "one report per step");
            Assert.IsNotNull(reports[^1].ValidationLoss);
            var metrics = context.MulticlassClassification.Evaluate(classifier.Transform(validation));
            Assert.AreEqual(classifier.TrainingResult!.FinalValidation!.Accuracy, metrics.MicroAccuracy, 1e-12, "the trainer's evaluation and ML.NET's evaluator agree");
            Assert.AreEqual(classifier.TrainingResult.FinalValidation.Loss, metrics.LogLoss, 1e-4, "and so do the losses");

            using var cancellation = new CancellationTokenSource();
            var stopAtFive = new SynchronousProgress<TrainingProgress>(report => { if (report.Step == 5) cancellation.Cancel(); });
            Assert.ThrowsExactly<OperationCanceledException>(() => Chain(options with { Progress = stopAtFive, CancellationToken = cancellation.Token }).Fit(train));
            var resumed = ((IEnumerable<ITransformer>)Chain(options with { ResumePath = path, Progress = null }).Fit(train)).OfType<TextClassificationTransformer>().Single();

            Assert.AreEqual(5L, resumed.TrainingResult!.StepsThisRun);
            CollectionAssert.AreEqual(FineTuningData.Scores(context, classifier, validation).SelectMany(row => row).ToArray(),
                FineTuningData.Scores(context, resumed, validation).SelectMany(row => row).ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void APretrainedGptBodyStartsTheEncoderAndAMismatchedOneIsRejected()
    {
        var path = Path.Combine(Path.GetTempPath(), $"gpt-{Guid.NewGuid():N}.safetensors");
        try
        {
            var context = new MLContext(seed: 1);
            var raw = context.Data.LoadFromEnumerable(FineTuningData.Messages(30, seed: 9));
            var data = context.Transforms.Conversion.MapValueToKey("Label").Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 300)).Fit(raw).Transform(raw);
            var options = FineTuningData.TinyOptions with { Steps = 1, LearningRateSchedule = _ => new ConstantSchedule(0) };
            GptModel.Create(new TransformerConfig(1, 2, 16, 48, vocabularySize: 300), seed: 99, Parallelism.Sequential).Parameters.SaveSafeTensors(path);

            var pretrained = context.MulticlassClassification.Trainers.TextClassifier(options with { PretrainedWeightsPath = path }).Fit(data);
            var fresh = context.MulticlassClassification.Trainers.TextClassifier(options).Fit(data);

            // With a zero learning rate the weights stay the initial ones: the body is the GPT's, so the scores differ from a fresh start.
            CollectionAssert.AreNotEqual(FineTuningData.Scores(context, fresh, data).Select(row => row[0]).ToArray(), FineTuningData.Scores(context, pretrained, data).Select(row => row[0]).ToArray());
            var wide = options with { Model = new TransformerConfig(1, 2, 32, 48), PretrainedWeightsPath = path };
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => context.MulticlassClassification.Trainers.TextClassifier(wide).Fit(data)).Message, "'wte.weight'");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void LoadingRefusesNonFiniteWeightsNamingTheTensor()
    {
        var context = new MLContext(seed: 1);
        var model = new EncoderClassifier(new TransformerConfig(1, 2, 8, 8, vocabularySize: 20), classCount: 2, Parallelism.Sequential);
        var bias = model.Parameters["head.bias"];
        model.Parameters.ValuesOf(bias)[1] = float.NaN;
        var transformer = new TextClassificationTransformer("Tokens", "PredictedLabel", "Score", LabelClasses.Restore(new LabelClasses.Description(2, null, null)),
            new ManagedBackend(1).Adopt(model), maximumSequenceLength: 8, trainingResult: null);
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("Text", TextDataViewType.Instance);
        var schema = builder.ToSchema();
        using var file = new MemoryStream();
        context.Model.Save(transformer, schema, file);
        file.Position = 0;

        // ML.NET calls loaders by reflection, so their exceptions arrive wrapped.
        var wrapped = Assert.ThrowsExactly<System.Reflection.TargetInvocationException>(() => context.Model.Load(file, out _));

        var error = Assert.IsInstanceOfType<InvalidDataException>(wrapped.InnerException);
        StringAssert.Contains(error.Message, "'head.bias'");
        StringAssert.Contains(error.Message, "NaN at index 1");

        // LoadModel lets the loader's exception through as itself, with the loader's frames in its stack trace.
        file.Position = 0;
        var direct = Assert.ThrowsExactly<InvalidDataException>(() => context.Model.LoadModel(file, out _));
        Assert.AreEqual(error.Message, direct.Message);
        StringAssert.Contains(direct.StackTrace, nameof(TextClassificationTransformer));

        // Inside a chain beside a stock transformer, ML.NET wraps once per level; LoadModel unwraps them all, from a file too.
        var stock = context.Transforms.Conversion.MapValueToKey("Label", "Text").Fit(context.Data.LoadFromEnumerable([new TextRow { Text = "a" }]));
        var chain = new TransformerChain<ITransformer>(stock, transformer);
        var path = Path.Combine(Path.GetTempPath(), $"pipelines-nan-chain-{Guid.NewGuid():N}.zip");
        try
        {
            context.Model.Save(chain, schema, path);
            var nested = Assert.ThrowsExactly<System.Reflection.TargetInvocationException>(() => context.Model.Load(path, out _));
            Assert.IsInstanceOfType<System.Reflection.TargetInvocationException>(nested.InnerException, "a chain adds a level of wrapping");
            var unwrapped = Assert.ThrowsExactly<InvalidDataException>(() => new MLContext(seed: 2).Model.LoadModel(path, out _));
            StringAssert.Contains(unwrapped.Message, "'head.bias'");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void LoadModelReadsAGoodModelAsLoadDoesAndNamesAMissingFile()
    {
        var context = new MLContext(seed: 1);
        var stock = context.Transforms.Conversion.MapValueToKey("Label", "Text").Fit(context.Data.LoadFromEnumerable([new TextRow { Text = "a" }]));
        using var file = new MemoryStream();
        context.Model.Save(stock, null, file);
        file.Position = 0;

        var loaded = context.Model.LoadModel(file, out _);

        Assert.IsInstanceOfType<Microsoft.ML.Transforms.ValueToKeyMappingTransformer>(loaded);
        var missing = Path.Combine(Path.GetTempPath(), $"pipelines-missing-{Guid.NewGuid():N}.zip");
        StringAssert.Contains(Assert.ThrowsExactly<FileNotFoundException>(() => context.Model.LoadModel(missing, out _)).Message, missing);
        Assert.ThrowsExactly<ArgumentException>(() => context.Model.LoadModel(" ", out _));
    }

    public sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    public sealed class FlagRow
    {
        public string Text { get; set; } = "";

        public bool Label { get; set; }
    }

    public sealed class FlagPrediction
    {
        public bool PredictedLabel { get; set; }
    }

    [TestMethod]
    public void ABooleanLabelsKeyValuesSurviveSavingSoMapKeyToValueGivesBooleansBack()
    {
        var context = new MLContext(seed: 1);
        var rows = FineTuningData.Messages(40, seed: 10).Select(row => new FlagRow { Text = row.Text, Label = row.Label == "spam" }).ToArray();
        var data = context.Data.LoadFromEnumerable(rows);
        var pipeline = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 300))
            .Append(context.MulticlassClassification.Trainers.TextClassifier(FineTuningData.TinyOptions with { Steps = 40 }))
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(data);
        using var file = new MemoryStream();
        context.Model.Save(model, data.Schema, file);
        file.Position = 0;

        var fresh = new MLContext(seed: 2);
        var loaded = fresh.Model.Load(file, out _);
        var output = loaded.Transform(fresh.Data.LoadFromEnumerable(rows));

        Assert.AreEqual(BooleanDataViewType.Instance, output.Schema["PredictedLabel"].Type);
        var expected = context.Data.CreateEnumerable<FlagPrediction>(model.Transform(data), reuseRowObject: false).Select(row => row.PredictedLabel).ToArray();
        var actual = fresh.Data.CreateEnumerable<FlagPrediction>(output, reuseRowObject: false).Select(row => row.PredictedLabel).ToArray();
        CollectionAssert.AreEqual(expected, actual);
        CollectionAssert.AreEquivalent(new[] { "False", "True" }, model.OfType<TextClassificationTransformer>().Single().ClassNames!.ToArray());
    }
}
