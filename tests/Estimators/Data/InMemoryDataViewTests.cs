using Pipelines.Data;

namespace Pipelines.Estimators.Tests.Data;

[TestClass]
public sealed class InMemoryDataViewTests
{
    private static InMemoryDataView TwoColumns() => new InMemoryDataView.Builder()
        .AddColumn("Value", NumberDataViewType.Single, [1f, 2f, 3f])
        .AddColumn("Tokens", new VectorDataViewType(NumberDataViewType.Int32), [new ReadOnlyMemory<int>([1, 2]), new ReadOnlyMemory<int>([3]), ReadOnlyMemory<int>.Empty])
        .ToDataView();

    [TestMethod]
    public void CursorReadsRowsInOrder()
    {
        var view = TwoColumns();
        Assert.AreEqual(3L, view.GetRowCount());
        var tokens = view.Schema["Tokens"];
        using var cursor = view.GetRowCursor(view.Schema);
        var getter = cursor.GetGetter<ReadOnlyMemory<int>>(tokens);
        var lengths = new List<int>();
        ReadOnlyMemory<int> value = default;
        Assert.AreEqual(-1L, cursor.Position);
        while (cursor.MoveNext())
        {
            getter(ref value);
            lengths.Add(value.Length);
        }

        CollectionAssert.AreEqual(new[] { 2, 1, 0 }, lengths);
        Assert.AreEqual(-1L, cursor.Position);
        Assert.IsFalse(cursor.MoveNext());
    }

    [TestMethod]
    public void GetterBeforeMoveNextThrows()
    {
        var view = TwoColumns();
        using var cursor = view.GetRowCursor(view.Schema);
        var getter = cursor.GetGetter<float>(view.Schema["Value"]);
        float value = 0;
        Assert.ThrowsExactly<InvalidOperationException>(() => getter(ref value));
    }

    [TestMethod]
    public void WrongValueTypeThrowsNamingBothTypes()
    {
        var view = TwoColumns();
        using var cursor = view.GetRowCursor(view.Schema);
        var exception = Assert.ThrowsExactly<InvalidOperationException>(() => cursor.GetGetter<double>(view.Schema["Value"]));
        StringAssert.Contains(exception.Message, "Single");
        StringAssert.Contains(exception.Message, "Double");
    }

    [TestMethod]
    public void InactiveColumnThrows()
    {
        var view = TwoColumns();
        using var cursor = view.GetRowCursor([view.Schema["Tokens"]]);
        Assert.IsFalse(cursor.IsColumnActive(view.Schema["Value"]));
        Assert.ThrowsExactly<InvalidOperationException>(() => cursor.GetGetter<float>(view.Schema["Value"]));
    }

    [TestMethod]
    public void ColumnOfAnotherSchemaThrows()
    {
        var view = TwoColumns();
        var other = new DataViewSchema.Builder().AddColumn("Other", NumberDataViewType.Single).ToSchema();
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => view.GetRowCursor([other["Other"]]));
    }

    [TestMethod]
    public void BuilderRejectsBadColumns()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new InMemoryDataView.Builder()
            .AddColumn("A", NumberDataViewType.Single, [1f, 2f])
            .AddColumn("B", NumberDataViewType.Single, [1f]));
        Assert.ThrowsExactly<ArgumentException>(() => new InMemoryDataView.Builder().AddColumn("A", NumberDataViewType.Double, [1f]));
        Assert.ThrowsExactly<ArgumentException>(() => new InMemoryDataView.Builder()
            .AddColumn("A", new VectorDataViewType(NumberDataViewType.Single, 3), [new ReadOnlyMemory<float>([1f, 2f])]));
        var exception = Assert.ThrowsExactly<ArgumentException>(() => new InMemoryDataView.Builder().AddColumn("Label", new KeyDataViewType(3), [1u, 4u]));
        StringAssert.Contains(exception.Message, "row 1");
    }
}
