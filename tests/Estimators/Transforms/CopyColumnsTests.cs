using Pipelines.Data;
using Pipelines.Estimators.Tests.Support;

namespace Pipelines.Estimators.Tests.Transforms;

[TestClass]
public sealed class CopyColumnsTests
{
    [TestMethod]
    public void CopiesValuesAndTypes()
    {
        var context = new PipelineContext(1);
        var data = context.Data.LoadFromEnumerable([new AllTypesRow { Features = [1, 2, 3], TokenIds = [4, 5] }]);

        var output = context.Transforms.CopyColumns(new InputOutputColumnPair("F", "Features"), new InputOutputColumnPair("T", "Tokens")).Fit(data).Transform(data);

        Assert.AreEqual(data.Schema["Features"].Type, output.Schema["F"].Type);
        var rows = context.Data.CreateEnumerable<Copied>(output, reuseRowObject: false).ToList();
        CollectionAssert.AreEqual(new[] { 1f, 2f, 3f }, rows[0].F);
        CollectionAssert.AreEqual(new[] { 4, 5 }, rows[0].T);
    }

    [TestMethod]
    public void CopyOverAnExistingColumnHidesIt()
    {
        var context = new PipelineContext(1);
        var data = TestData.Numbers(context, 2);

        var output = context.Transforms.CopyColumns("Name", "Value").Fit(data).Transform(data);

        Assert.AreEqual(NumberDataViewType.Single, output.Schema["Name"].Type);
        Assert.IsTrue(output.Schema[1].IsHidden);
        CollectionAssert.AreEqual(new[] { 0f, 1f }, TestData.Values(output, "Name"));
    }

    [TestMethod]
    public void MissingInputFailsAtEveryStage()
    {
        var context = new PipelineContext(1);
        var data = TestData.Numbers(context, 2);
        var estimator = context.Transforms.CopyColumns("B", "Absent");

        Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.GetOutputSchema(SchemaShape.Create(data.Schema)));
        Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.Fit(data));
        var fitted = context.Transforms.CopyColumns("B", "Value").Fit(data);
        var other = context.Data.LoadFromEnumerable([new ValueInput()]);
        Assert.ThrowsExactly<SchemaMismatchException>(() => fitted.Transform(context.Data.LoadFromEnumerable([new DoubledOutput { Pair = [1, 2] }])));
        Assert.AreEqual(2, fitted.Transform(other).Schema.Count);
        Assert.ThrowsExactly<ArgumentException>(() => new InputOutputColumnPair(""));
    }

    public sealed class Copied
    {
        public float[] F { get; set; } = [];

        public int[] T { get; set; } = [];
    }
}
