using Pipelines.Estimators.Tests.Support;

namespace Pipelines.Estimators.Tests.Data;

[TestClass]
public sealed class RowSelectionTests
{
    [TestMethod]
    [DataRow(100, 0.2, 20)]
    [DataRow(7, 0.5, 4)]
    [DataRow(33, 0.1, 3)]
    [DataRow(1, 0.4, 0)]
    public void TrainTestSplitHasExactFractionAndPartitionsRows(int rowCount, double testFraction, int expectedTest)
    {
        var context = new PipelineContext(1);
        var split = context.Data.TrainTestSplit(TestData.Numbers(context, rowCount), testFraction, seed: 5);

        var train = TestData.Values(split.TrainSet);
        var test = TestData.Values(split.TestSet);
        Assert.HasCount(expectedTest, test);
        Assert.AreEqual((long)expectedTest, split.TestSet.GetRowCount());
        Assert.AreEqual((long)(rowCount - expectedTest), split.TrainSet.GetRowCount());
        CollectionAssert.AreEquivalent(Enumerable.Range(0, rowCount).Select(index => (float)index).ToArray(), train.Concat(test).ToArray());
        CollectionAssert.AreEqual(train.Order().ToArray(), train, "the train set keeps the source order");
        CollectionAssert.AreEqual(test.Order().ToArray(), test, "the test set keeps the source order");
    }

    [TestMethod]
    public void TrainTestSplitIsDeterministic()
    {
        var context = new PipelineContext(1);
        var data = TestData.Numbers(context, 50);
        float[] Test(PipelineContext splitter, int? seed) => TestData.Values(splitter.Data.TrainTestSplit(data, 0.3, seed).TestSet);

        CollectionAssert.AreEqual(Test(context, 9), Test(context, 9));
        CollectionAssert.AreNotEqual(Test(context, 9), Test(context, 10));
        CollectionAssert.AreEqual(Test(new PipelineContext(42), null), Test(new PipelineContext(42), null), "the context seed decides when none is given");
        CollectionAssert.AreNotEqual(Test(new PipelineContext(42), null), Test(new PipelineContext(43), null));
    }

    [TestMethod]
    [DataRow(0.0)]
    [DataRow(1.0)]
    [DataRow(-0.1)]
    [DataRow(double.NaN)]
    public void TrainTestSplitRejectsBadFraction(double testFraction)
    {
        var context = new PipelineContext(1);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.Data.TrainTestSplit(TestData.Numbers(context, 5), testFraction));
    }

    [TestMethod]
    public void TakeAndSkipRows()
    {
        var context = new PipelineContext(1);
        var data = TestData.Numbers(context, 7);

        CollectionAssert.AreEqual(new[] { 0f, 1f, 2f }, TestData.Values(context.Data.TakeRows(data, 3)));
        CollectionAssert.AreEqual(new[] { 5f, 6f }, TestData.Values(context.Data.SkipRows(data, 5)));
        CollectionAssert.AreEqual(new[] { 3f, 4f }, TestData.Values(context.Data.TakeRows(context.Data.SkipRows(data, 3), 2)));
        Assert.AreEqual(7L, context.Data.TakeRows(data, 100).GetRowCount());
        Assert.AreEqual(0L, context.Data.SkipRows(data, 100).GetRowCount());
        Assert.IsEmpty(TestData.Values(context.Data.SkipRows(data, 100)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.Data.TakeRows(data, -1));
    }
}
