using Pipelines.Data;
using Pipelines.Pretraining;

namespace Pipelines.Estimators.Tests.Pretraining;

[TestClass]
public sealed class CausalLanguageModelSchemaTests
{
    public sealed class FloatTokensRow
    {
        public float[] Tokens { get; set; } = [];
    }

    public sealed class ScalarTokensRow
    {
        public int Tokens { get; set; }
    }

    private static CausalLanguageModelOptions Options() => PretrainingFixtures.TinyOptions() with { Steps = 2, EndOfTextTokenId = 0 };

    private static int[] Counting(int length, int modulo) => [.. Enumerable.Range(0, length).Select(index => 1 + index % modulo)];

    [TestMethod]
    public void MissingTokenColumnIsNamedAtEveryStage()
    {
        var context = new PipelineContext(1);
        var text = PretrainingFixtures.Training(context);
        var estimator = context.Pretraining.CausalLanguageModel(Options());

        var shape = Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.GetOutputSchema(SchemaShape.Create(text.Schema)));
        var fit = Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.Fit(text));
        var transform = Assert.ThrowsExactly<SchemaMismatchException>(() => PretrainingFixtures.Model.Transform(text));
        var evaluate = Assert.ThrowsExactly<SchemaMismatchException>(() => PretrainingFixtures.Model.Evaluate(text));
        var tokens = PretrainingFixtures.Tokens(context, Counting(100, 7));
        var validation = Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.Fit(tokens, text));

        foreach (var error in new[] { shape, fit, transform, evaluate, validation })
        {
            Assert.AreEqual("Tokens", error.ColumnName);
            Assert.IsNull(error.ActualType);
        }
    }

    [TestMethod]
    public void WronglyTypedTokenColumnIsNamed()
    {
        var context = new PipelineContext(1);
        var floats = context.Data.LoadFromEnumerable([new FloatTokensRow { Tokens = [1, 2, 3] }]);
        var scalars = context.Data.LoadFromEnumerable([new ScalarTokensRow { Tokens = 3 }]);
        var estimator = context.Pretraining.CausalLanguageModel(Options());

        var vector = Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.Fit(floats));
        var scalar = Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.GetOutputSchema(SchemaShape.Create(scalars.Schema)));
        var transform = Assert.ThrowsExactly<SchemaMismatchException>(() => PretrainingFixtures.Model.Transform(floats));

        Assert.AreEqual("Tokens", vector.ColumnName);
        Assert.AreEqual("Vector<Single>", vector.ActualType);
        Assert.AreEqual("Tokens", scalar.ColumnName);
        Assert.AreEqual("Tokens", transform.ColumnName);
    }

    [TestMethod]
    public void OutputSchemaAddsLossAndPerplexity()
    {
        var context = new PipelineContext(1);
        var tokens = PretrainingFixtures.Tokens(context, Counting(10, 3));
        var estimator = context.Pretraining.CausalLanguageModel(Options() with { LossColumnName = "L", PerplexityColumnName = "P" });

        var shape = estimator.GetOutputSchema(SchemaShape.Create(tokens.Schema));

        Assert.IsTrue(shape.TryFindColumn("L", out var loss));
        Assert.IsTrue(shape.TryFindColumn("P", out var perplexity));
        Assert.AreEqual(SchemaShape.Column.VectorKind.Scalar, loss.Kind);
        Assert.AreEqual(NumberDataViewType.Single, perplexity.ItemType);
    }

    [TestMethod]
    public void WithoutATokenizerTheEndOfTextIdMustBeGiven()
    {
        var context = new PipelineContext(1);
        var tokens = PretrainingFixtures.Tokens(context, Counting(200, 9));

        var error = Assert.ThrowsExactly<ArgumentException>(() => context.Pretraining.CausalLanguageModel(Options() with { EndOfTextTokenId = null }).Fit(tokens));

        Assert.AreEqual(nameof(CausalLanguageModelOptions.EndOfTextTokenId), error.ParamName);
    }

    [TestMethod]
    public void VocabularyIsTheLargestIdPlusOneUnlessSet()
    {
        var context = new PipelineContext(1);
        var tokens = PretrainingFixtures.Tokens(context, Counting(200, 9), [3, 41, 2]);

        var inferred = context.Pretraining.CausalLanguageModel(Options()).Fit(tokens);
        var tooSmall = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.Pretraining.CausalLanguageModel(Options() with { VocabularySize = 41 }).Fit(tokens));

        Assert.AreEqual(42, inferred.Config.VocabularySize);
        Assert.AreEqual(nameof(CausalLanguageModelOptions.VocabularySize), tooSmall.ParamName);
        Assert.AreEqual(41, tooSmall.ActualValue);
        StringAssert.Contains(tooSmall.Message, "token id 41");
        StringAssert.Contains(tooSmall.Message, "row 1");
    }

    [TestMethod]
    public void BadTokenIdsAndShortDataAreReported()
    {
        var context = new PipelineContext(1);
        var estimator = context.Pretraining.CausalLanguageModel(Options());

        var negative = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.Fit(PretrainingFixtures.Tokens(context, Counting(200, 9), [4, -3])));
        var tooShort = Assert.ThrowsExactly<ArgumentException>(() => estimator.Fit(PretrainingFixtures.Tokens(context, [1, 2, 3])));
        var shortValidation = Assert.ThrowsExactly<ArgumentException>(() =>
            estimator.Fit(PretrainingFixtures.Tokens(context, Counting(200, 9)), PretrainingFixtures.Tokens(context, [1, 2])));
        var outsideModel = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            PretrainingFixtures.Model.Evaluate(PretrainingFixtures.Tokens(context, [1, PretrainingFixtures.Model.Config.VocabularySize])));

        Assert.AreEqual(-3, negative.ActualValue);
        StringAssert.Contains(negative.Message, "row 1");
        Assert.AreEqual("train", tooShort.ParamName);
        Assert.AreEqual("validation", shortValidation.ParamName);
        StringAssert.Contains(outsideModel.Message, "row 0");
    }

    [TestMethod]
    public void EvaluatingNoTokensFails()
    {
        var context = new PipelineContext(1);

        Assert.ThrowsExactly<ArgumentException>(() => PretrainingFixtures.Model.Evaluate(PretrainingFixtures.Tokens(context, [], [])));
    }
}
