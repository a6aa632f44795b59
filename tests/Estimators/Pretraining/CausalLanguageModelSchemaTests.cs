using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.Pretraining;

namespace Pipelines.Estimators.Tests.Pretraining;

[TestClass]
public sealed class CausalLanguageModelSchemaTests
{
    public sealed class FloatTokensRow
    {
        public float[] Tokens { get; set; } = [];
    }

    public sealed class IntegerTokensRow
    {
        public int[] Tokens { get; set; } = [];
    }

    public sealed class ScalarTokensRow
    {
        public int Tokens { get; set; }
    }

    public sealed class WideTokensRow
    {
        [KeyType(PretrainingFixtures.VocabularySize + 1)]
        public uint[] Tokens { get; set; } = [];
    }

    private static CausalLanguageModelOptions Options() => PretrainingFixtures.TinyOptions() with { Steps = 2, EndOfTextTokenId = 0 };

    private static int[] Counting(int length, int modulo) => [.. Enumerable.Range(0, length).Select(index => 1 + index % modulo)];

    [TestMethod]
    public void MissingTokenColumnIsNamedAtEveryStage()
    {
        var context = new MLContext(seed: 1);
        var text = PretrainingFixtures.Training(context);
        var estimator = context.Pretraining().CausalLanguageModel(Options());

        var shape = Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.GetOutputSchema(SchemaShapes.FromSchema(text.Schema)));
        var fit = Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.Fit(text));
        var transform = Assert.ThrowsExactly<SchemaMismatchException>(() => PretrainingFixtures.Model.Transform(text));
        var evaluate = Assert.ThrowsExactly<SchemaMismatchException>(() => PretrainingFixtures.Model.Evaluate(text));
        var tokens = PretrainingFixtures.Tokens(context, Counting(100, 7));
        var validation = Assert.ThrowsExactly<SchemaMismatchException>(() =>
            context.Pretraining().CausalLanguageModel(Options() with { ValidationSet = text }).Fit(tokens));

        foreach (var error in new[] { shape, fit, transform, evaluate, validation })
        {
            Assert.AreEqual("Tokens", error.ColumnName);
            Assert.IsNull(error.ActualType);
        }

        Assert.AreEqual(nameof(CausalLanguageModelOptions.ValidationSet), validation.ParamName);
        StringAssert.Contains(validation.Message, "carry their tokenizer", "raw validation text needs the tokenizer the training tokens carry");
    }

    [TestMethod]
    public void TokenColumnMustBeAVectorOfKeys()
    {
        var context = new MLContext(seed: 1);
        var floats = context.Data.LoadFromEnumerable([new FloatTokensRow { Tokens = [1, 2, 3] }]);
        var integers = context.Data.LoadFromEnumerable([new IntegerTokensRow { Tokens = [1, 2, 3] }]);
        var scalars = context.Data.LoadFromEnumerable([new ScalarTokensRow { Tokens = 3 }]);
        var estimator = context.Pretraining().CausalLanguageModel(Options());

        var vector = Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.Fit(floats));
        var plain = Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.Fit(integers));
        var scalar = Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.GetOutputSchema(SchemaShapes.FromSchema(scalars.Schema)));
        var transform = Assert.ThrowsExactly<SchemaMismatchException>(() => PretrainingFixtures.Model.Transform(floats));

        Assert.AreEqual("Vector<Single>", vector.ActualType);
        Assert.AreEqual("Vector<Int32>", plain.ActualType, "plain integers are not token keys");
        foreach (var error in new[] { vector, plain, scalar, transform }) Assert.AreEqual("Tokens", error.ColumnName);
    }

    [TestMethod]
    public void KeysBeyondTheModelsVocabularyAreRefusedBeforeScoring()
    {
        var context = new MLContext(seed: 1);
        var wide = context.Data.LoadFromEnumerable([new WideTokensRow { Tokens = [1, 2] }]);

        var error = Assert.ThrowsExactly<SchemaMismatchException>(() => PretrainingFixtures.Model.Transform(wide));

        Assert.AreEqual("Tokens", error.ColumnName);
        StringAssert.Contains(error.ExpectedType, PretrainingFixtures.VocabularySize.ToString());
    }

    [TestMethod]
    public void OutputSchemaAddsLossAndPerplexity()
    {
        var context = new MLContext(seed: 1);
        var tokens = PretrainingFixtures.Tokens(context, Counting(10, 3));
        var estimator = context.Pretraining().CausalLanguageModel(Options() with { LossColumnName = "L", PerplexityColumnName = "P" });

        var shape = estimator.GetOutputSchema(SchemaShapes.FromSchema(tokens.Schema));

        var loss = shape.Single(column => column.Name == "L");
        var perplexity = shape.Single(column => column.Name == "P");
        Assert.AreEqual(SchemaShape.Column.VectorKind.Scalar, loss.Kind);
        Assert.AreEqual(NumberDataViewType.Single, perplexity.ItemType);
        Assert.IsTrue(shape.Single(column => column.Name == "Tokens").IsKey, "the token column passes through");
    }

    [TestMethod]
    public void OutputSchemaOfTheEstimatorIsThatOfTheFittedTransformer()
    {
        var context = new MLContext(seed: 1);
        var tokens = PretrainingFixtures.Tokenizer.Transform(PretrainingFixtures.Validation(context));
        var estimator = context.Pretraining().CausalLanguageModel("Tokens", PretrainingFixtures.TinyOptions());

        var promised = estimator.GetOutputSchema(SchemaShapes.FromSchema(tokens.Schema));
        var actual = SchemaShapes.FromSchema(PretrainingFixtures.Model.GetOutputSchema(tokens.Schema));

        static string Describe(SchemaShape shape) => string.Join("; ", shape.Select(column =>
            $"{column.Name} {SchemaShapes.Describe(column)} [{string.Join(",", column.Annotations.Select(annotation => annotation.Name))}]"));
        Assert.AreEqual(Describe(actual), Describe(promised));
        Assert.AreEqual("Tokens", estimator.Options.TokensColumnName, "the simple overload sets the column");
    }

    [TestMethod]
    public void WithoutATokenizerTheEndOfTextIdMustBeGivenAndInsideTheVocabulary()
    {
        var context = new MLContext(seed: 1);
        var tokens = PretrainingFixtures.Tokens(context, Counting(200, 9));

        var missing = Assert.ThrowsExactly<ArgumentException>(() => context.Pretraining().CausalLanguageModel(Options() with { EndOfTextTokenId = null }).Fit(tokens));
        var outside = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            context.Pretraining().CausalLanguageModel(Options() with { EndOfTextTokenId = PretrainingFixtures.VocabularySize }).Fit(tokens));

        Assert.AreEqual(nameof(CausalLanguageModelOptions.EndOfTextTokenId), missing.ParamName);
        Assert.AreEqual(nameof(CausalLanguageModelOptions.EndOfTextTokenId), outside.ParamName);
        Assert.AreEqual(PretrainingFixtures.VocabularySize, outside.ActualValue);
    }

    [TestMethod]
    public void VocabularyIsTheKeyCount()
    {
        var context = new MLContext(seed: 1);
        var tokens = PretrainingFixtures.Tokens(context, Counting(200, 9), [3, 41, 2]);

        var model = context.Pretraining().CausalLanguageModel(Options()).Fit(tokens);

        Assert.AreEqual(PretrainingFixtures.VocabularySize, model.Config.VocabularySize);
        Assert.IsNull(model.Tokenizer);
    }

    [TestMethod]
    public void AfterAStockTransformTheTokenizerStillGivesVocabularyAndEndOfText()
    {
        var context = new MLContext(seed: 1);
        var pipeline = context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 300)
            .Append(context.Transforms.CopyColumns("Ids", "Tokens"))
            .Append(context.Pretraining().CausalLanguageModel("Ids", PretrainingFixtures.TinyOptions() with { Steps = 2 }));

        var shape = pipeline.GetOutputSchema(SchemaShapes.FromSchema(PretrainingFixtures.Training(context).Schema));
        var model = pipeline.Fit(PretrainingFixtures.Training(context)).LastTransformer;

        CollectionAssert.IsSubsetOf(new[] { "Loss", "Perplexity" }, shape.Select(column => column.Name).ToArray());
        Assert.AreEqual(300, model.Config.VocabularySize);
        Assert.AreEqual(299, model.EndOfTextTokenId, "the end-of-text token is the tokenizer's last id");
        Assert.AreEqual("Ids", model.TokensColumnName);
        Assert.IsNotNull(model.Tokenizer);
    }

    [TestMethod]
    public void MissingKeysAndShortDataAreReported()
    {
        var context = new MLContext(seed: 1);
        var estimator = context.Pretraining().CausalLanguageModel(Options());
        var missingKey = context.Data.LoadFromEnumerable([new TokenRow { Tokens = [.. Counting(200, 9).Select(id => (uint)id)] }, new TokenRow { Tokens = [4, 0] }]);

        var missing = Assert.ThrowsExactly<ArgumentException>(() => estimator.Fit(missingKey));
        var tooShort = Assert.ThrowsExactly<ArgumentException>(() => estimator.Fit(PretrainingFixtures.Tokens(context, [1, 2, 3])));
        var shortValidation = Assert.ThrowsExactly<ArgumentException>(() => context.Pretraining()
            .CausalLanguageModel(Options() with { ValidationSet = PretrainingFixtures.Tokens(context, [1, 2]) })
            .Fit(PretrainingFixtures.Tokens(context, Counting(200, 9))));

        StringAssert.Contains(missing.Message, "Row 1");
        StringAssert.Contains(missing.Message, "missing token");
        Assert.AreEqual("input", tooShort.ParamName);
        Assert.AreEqual(nameof(CausalLanguageModelOptions.ValidationSet), shortValidation.ParamName);
    }

    [TestMethod]
    public void EvaluatingNoTokensFails()
    {
        var context = new MLContext(seed: 1);

        var error = Assert.ThrowsExactly<ArgumentException>(() => PretrainingFixtures.Model.Evaluate(PretrainingFixtures.Tokens(context, [], [])));

        Assert.AreEqual("data", error.ParamName);
    }
}
