using Pipelines.Estimators.Tests.Support;
using Pipelines.Transforms;

namespace Pipelines.Estimators.Tests.Contracts;

[TestClass]
public sealed class ChainTests
{
    /// <summary>Counts its fits; otherwise copies a column.</summary>
    private sealed class CountingEstimator(IEstimator<CopyColumnsTransformer> inner) : IEstimator<CopyColumnsTransformer>
    {
        public int FitCount { get; private set; }

        public CopyColumnsTransformer Fit(IDataView input)
        {
            FitCount++;
            return inner.Fit(input);
        }

        public SchemaShape GetOutputSchema(SchemaShape inputSchema) => inner.GetOutputSchema(inputSchema);
    }

    [TestMethod]
    public void AppendKeepsTheLastTransformerType()
    {
        var context = new PipelineContext(1);
        var data = TestData.Numbers(context, 3);

        EstimatorChain<CopyColumnsTransformer> copies = context.Transforms.CopyColumns("B", "Value").Append(context.Transforms.CopyColumns("C", "B"));
        EstimatorChain<CustomMappingTransformer<ValueInput, DoubledOutput>> pipeline =
            copies.Append(context.Transforms.CustomMapping<ValueInput, DoubledOutput>((input, output) => output.Doubled = 2 * input.Value, null));
        TransformerChain<CustomMappingTransformer<ValueInput, DoubledOutput>> model = pipeline.Fit(data);

        Assert.IsNull(model.LastTransformer.ContractName);
        Assert.AreEqual(3, model.Count);
        CollectionAssert.AreEqual(
            new[] { typeof(CopyColumnsTransformer), typeof(CopyColumnsTransformer), typeof(CustomMappingTransformer<ValueInput, DoubledOutput>) },
            model.Select(transformer => transformer.GetType()).ToArray());
        var output = model.Transform(data);
        CollectionAssert.AreEqual(new[] { 0f, 1f, 2f }, TestData.Values(output, "C"));
        CollectionAssert.AreEqual(new[] { 0f, 2f, 4f }, TestData.Values(output, "Doubled"));
    }

    [TestMethod]
    public void ChainFitCreatesTheOutputSchemaItPredicted()
    {
        var context = new PipelineContext(1);
        var data = TestData.Numbers(context, 2);
        var pipeline = context.Transforms.CopyColumns("B", "Value")
            .Append(context.Transforms.CustomMapping<ValueInput, DoubledOutput>((input, output) => output.Pair = [input.Value, 1], null));

        var predicted = pipeline.GetOutputSchema(SchemaShape.Create(data.Schema));
        var actual = SchemaShape.Create(pipeline.Fit(data).GetOutputSchema(data.Schema));

        CollectionAssert.AreEqual(predicted.ToArray(), actual.ToArray());
        Assert.IsTrue(predicted.TryFindColumn("Pair", out var pair));
        Assert.AreEqual("Vector<Single>", pair.GetTypeString());
    }

    [TestMethod]
    public void ChainFailsOnABadColumnBeforeFittingAnything()
    {
        var context = new PipelineContext(1);
        var data = TestData.Numbers(context, 2);
        var first = new CountingEstimator(context.Transforms.CopyColumns("B", "Value"));
        var pipeline = first.Append(context.Transforms.CopyColumns("D", "Missing"));

        var exception = Assert.ThrowsExactly<SchemaMismatchException>(() => pipeline.Fit(data));
        StringAssert.Contains(exception.Message, "'Missing'");
        Assert.AreEqual(0, first.FitCount);
        Assert.ThrowsExactly<SchemaMismatchException>(() => pipeline.GetOutputSchema(SchemaShape.Create(data.Schema)));
    }

    [TestMethod]
    public void EmptyChainsAndWrongLastType()
    {
        var empty = new EstimatorChain<ITransformer>().Fit(TestData.Numbers(new PipelineContext(1), 1));
        Assert.AreEqual(0, empty.Count);
        Assert.ThrowsExactly<InvalidOperationException>(() => empty.LastTransformer);
        Assert.ThrowsExactly<ArgumentException>(() =>
            new TransformerChain<CopyColumnsTransformer>(new CustomMappingTransformer<ValueInput, DoubledOutput>((_, _) => { }, null)));
    }

    [TestMethod]
    public void TransformersAppendToTypedChains()
    {
        var copy = new CopyColumnsTransformer(new InputOutputColumnPair("B", "Value"));
        var mapping = new CustomMappingTransformer<ValueInput, DoubledOutput>((input, output) => output.Doubled = -input.Value, null);

        TransformerChain<CustomMappingTransformer<ValueInput, DoubledOutput>> chain = copy.Append(mapping);
        TransformerChain<CopyColumnsTransformer> longer = chain.Append(new CopyColumnsTransformer(new InputOutputColumnPair("E", "Doubled")));

        Assert.AreSame(mapping, chain.LastTransformer);
        Assert.AreEqual(3, longer.Count);
        Assert.IsTrue(longer.IsRowToRowMapper);
        CollectionAssert.AreEqual(new[] { 0f, -1f }, TestData.Values(longer.Transform(TestData.Numbers(new PipelineContext(1), 2)), "E"));
    }
}
