using Microsoft.ML;
using Pipelines.Components.Models;
using Pipelines.FineTuning;
using Pipelines.Text;

namespace Pipelines.Estimators.Tests.FineTuning;

/// <summary>Bad columns and bad options fail early, naming the column or the option and the value.</summary>
[TestClass]
public sealed class TextClassifierInputErrorTests
{
    private static (MLContext Context, IDataView Tokenized) Tokenized()
    {
        var context = new MLContext(seed: 1);
        var data = context.Data.LoadFromEnumerable(FineTuningData.Messages(20, seed: 4));
        var prefix = context.Transforms.Conversion.MapValueToKey("Label").Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 300)).Fit(data);
        return (context, prefix.Transform(data));
    }

    [TestMethod]
    public void AMissingTokenColumnIsNamedBeforeTrainingAndAtFit()
    {
        var (context, tokenized) = Tokenized();
        var estimator = context.MulticlassClassification.Trainers.TextClassifier(tokensColumnName: "Ids");

        var beforeTraining = Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.GetOutputSchema(SchemaShapes.FromSchema(tokenized.Schema)));
        var atFit = Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.Fit(tokenized));

        Assert.AreEqual("Ids", beforeTraining.ColumnName);
        Assert.AreEqual("Ids", atFit.ColumnName);
        StringAssert.Contains(atFit.Message, "'Tokens'", "the message lists the columns present");
    }

    [TestMethod]
    public void ATextLabelIsRefusedNamingTheColumnTheExpectedKeyAndTheActualType()
    {
        var context = new MLContext(seed: 1);
        var data = context.Data.LoadFromEnumerable(FineTuningData.Messages(20, seed: 4));
        var withoutKey = context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 300).Append(context.MulticlassClassification.Trainers.TextClassifier(FineTuningData.TinyOptions));

        var error = Assert.ThrowsExactly<SchemaMismatchException>(() => withoutKey.GetOutputSchema(SchemaShapes.FromSchema(data.Schema)));

        Assert.AreEqual("Label", error.ColumnName);
        StringAssert.Contains(error.Message, "Key<UInt32>");
        StringAssert.Contains(error.ActualType, "Text");
        var atFit = Assert.ThrowsExactly<SchemaMismatchException>(() => withoutKey.Fit(data));
        StringAssert.Contains(atFit.Message, "'Label'");
    }

    [TestMethod]
    public void AVocabularySmallerThanTheTokenColumnsIsRefusedNamingTheOption()
    {
        var (context, tokenized) = Tokenized();

        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            context.MulticlassClassification.Trainers.TextClassifier(FineTuningData.TinyOptions with { VocabularySize = 100 }).Fit(tokenized));

        Assert.AreEqual("VocabularySize", error.ParamName);
        Assert.AreEqual(100, error.ActualValue);
        StringAssert.Contains(error.Message, "smaller than the 300 token keys of column 'Tokens'");
        var larger = context.MulticlassClassification.Trainers.TextClassifier(FineTuningData.TinyOptions with { VocabularySize = 320, Steps = 1 }).Fit(tokenized);
        Assert.AreEqual(320, larger.ModelConfig.VocabularySize, "a larger vocabulary is allowed");
        Assert.AreEqual(300, context.MulticlassClassification.Trainers.TextClassifier(FineTuningData.TinyOptions with { Steps = 1 }).Fit(tokenized).ModelConfig.VocabularySize,
            "by default the vocabulary is the column's key count");
    }

    [TestMethod]
    public void AValidationSetWithAnotherLabelTypeIsRefused()
    {
        var (context, tokenized) = Tokenized();
        var threeClasses = context.Data.LoadFromEnumerable(FineTuningData.Messages(6, seed: 5).Select((row, index) => new Message { Text = row.Text, Label = $"class{index % 3}" }));
        var otherKeys = context.Transforms.Conversion.MapValueToKey("Label").Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 280)).Fit(threeClasses).Transform(threeClasses);

        var error = Assert.ThrowsExactly<SchemaMismatchException>(() =>
            context.MulticlassClassification.Trainers.TextClassifier(FineTuningData.TinyOptions with { ValidationSet = otherKeys, Steps = 1 }).Fit(tokenized));

        Assert.AreEqual("Label", error.ColumnName);
        Assert.AreEqual("validation", error.ParamName);
    }

    [TestMethod]
    public void BadOptionValuesAreRefusedNamingTheOptionAndTheValue()
    {
        var context = new MLContext(seed: 1);
        var batch = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TextClassificationOptions { BatchSize = 0 });
        Assert.AreEqual("BatchSize", batch.ParamName);
        Assert.AreEqual(0, batch.ActualValue);
        StringAssert.Contains(batch.Message, "The option BatchSize cannot be 0");
        Assert.AreEqual("Epochs", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TextClassificationOptions { Epochs = double.NaN }).ParamName);
        Assert.AreEqual("Steps", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TextClassificationOptions { Steps = 0 }).ParamName);
        Assert.AreEqual("VocabularySize", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TextClassificationOptions { VocabularySize = 0 }).ParamName);
        Assert.AreEqual("ThreadCount", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TextClassificationOptions { ThreadCount = 0 }).ParamName);
        Assert.AreEqual("EvaluationInterval", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TextClassificationOptions { EvaluationInterval = -1 }).ParamName);
        Assert.AreEqual("TokensColumnName", Assert.ThrowsExactly<ArgumentException>(() => new TextClassificationOptions { TokensColumnName = " " }).ParamName);
        Assert.AreEqual("Epochs", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.MulticlassClassification.Trainers.TextClassifier(epochs: -1)).ParamName,
            "the simple overload names the option");

        var tooLong = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            context.MulticlassClassification.Trainers.TextClassifier(FineTuningData.TinyOptions with { MaximumSequenceLength = 49 }));
        Assert.AreEqual("MaximumSequenceLength", tooLong.ParamName);
        StringAssert.Contains(tooLong.Message, "context (48)");
        Assert.AreEqual("CheckpointPath", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            context.MulticlassClassification.Trainers.TextClassifier(FineTuningData.TinyOptions with { CheckpointInterval = 5 })).ParamName);
        Assert.AreEqual("ScoreColumnName", Assert.ThrowsExactly<ArgumentException>(() =>
            context.MulticlassClassification.Trainers.TextClassifier(predictedLabelColumnName: "Out", scoreColumnName: "Out")).ParamName);
        Assert.AreEqual("Model", Assert.ThrowsExactly<ArgumentNullException>(() => new TextClassificationOptions { Model = null! }).ParamName);
    }

    [TestMethod]
    public void ARowWithoutTokensIsNamedAndRowsWithoutALabelAreSkipped()
    {
        var context = new MLContext(seed: 1);
        var rows = FineTuningData.Messages(20, seed: 4).ToList();
        var tokenize = context.Transforms.Conversion.MapValueToKey("Label").Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 300))
            .Fit(context.Data.LoadFromEnumerable(rows));
        var options = FineTuningData.TinyOptions with { Steps = 1 };

        var withEmpty = tokenize.Transform(context.Data.LoadFromEnumerable(rows.Append(new Message { Text = "", Label = "spam" })));
        var error = Assert.ThrowsExactly<ArgumentException>(() => context.MulticlassClassification.Trainers.TextClassifier(options).Fit(withEmpty));
        StringAssert.Contains(error.Message, "Row 20 of the training data has no tokens in column 'Tokens'");

        var unknownLabel = tokenize.Transform(context.Data.LoadFromEnumerable(rows.Append(new Message { Text = "a new label", Label = "maybe" })));
        var model = context.MulticlassClassification.Trainers.TextClassifier(options).Fit(unknownLabel);
        Assert.AreEqual(2, model.ClassCount, "the unseen label is a missing key, skipped as ML.NET's trainers skip it");
    }

    [TestMethod]
    public void ATransformerRefusesATokenColumnWiderThanItsVocabulary()
    {
        var (context, tokenized) = Tokenized();
        var model = context.MulticlassClassification.Trainers.TextClassifier(FineTuningData.TinyOptions with { Steps = 1 }).Fit(tokenized);
        var data = context.Data.LoadFromEnumerable(FineTuningData.Messages(20, seed: 4));
        var wider = context.Transforms.Text.TrainBytePairEncoding(new BytePairEncodingOptions { VocabularySize = 310, AllowSmallerVocabulary = true }).Fit(data).Transform(data);

        var error = Assert.ThrowsExactly<SchemaMismatchException>(() => model.Transform(wider));

        Assert.AreEqual("Tokens", error.ColumnName);
        StringAssert.Contains(error.Message, "at most 300");
    }

    [TestMethod]
    public void TheModelShapeComesFromTheOptionsAndTheVocabularyFromTheColumn()
    {
        var (context, tokenized) = Tokenized();
        var options = FineTuningData.TinyOptions with { Model = new TransformerConfig(layerCount: 1, headCount: 4, channels: 8, contextLength: 16), MaximumSequenceLength = 16, Steps = 1 };

        var model = context.MulticlassClassification.Trainers.TextClassifier(options).Fit(tokenized);

        Assert.AreEqual(new TransformerConfig(1, 4, 8, 16, vocabularySize: 300), model.ModelConfig);
        Assert.AreEqual(16, model.MaximumSequenceLength);
    }
}
