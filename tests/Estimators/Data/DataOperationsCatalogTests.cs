using Pipelines.Data;
using Pipelines.Estimators.Tests.Support;

namespace Pipelines.Estimators.Tests.Data;

[TestClass]
public sealed class DataOperationsCatalogTests
{
    private static AllTypesRow[] Rows() =>
    [
        new() { Single = 1.5f, Double = 2.25, Int32 = -3, Int64 = 1L << 40, Flag = true, Text = "héllo", Label = 5, Features = [1, 2, 3], TokenIds = [7, 8, 9, 10], Words = ["a", "b"] },
        new() { Single = float.NaN, Double = -0.5, Int32 = 0, Int64 = -1, Flag = false, Text = "", Label = 0, Features = [0, 0, 1], TokenIds = [], Words = [] },
    ];

    [TestMethod]
    public void LoadFromEnumerableMapsMembersToTypedColumns()
    {
        var data = new PipelineContext(1).Data.LoadFromEnumerable(Rows());
        var schema = data.Schema;

        Assert.AreEqual(10, schema.Count, schema.ToString());
        Assert.AreEqual(NumberDataViewType.Single, schema["Single"].Type);
        Assert.AreEqual(NumberDataViewType.Int64, schema["Int64"].Type);
        Assert.AreEqual(TextDataViewType.Instance, schema["Text"].Type);
        Assert.AreEqual(new KeyDataViewType(5), schema["Label"].Type);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 3), schema["Features"].Type);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Int32), schema["Tokens"].Type);
        Assert.AreEqual(new VectorDataViewType(TextDataViewType.Instance), schema["Words"].Type);
        Assert.IsNull(schema.GetColumnOrNull("Ignored"));
        Assert.IsNull(schema.GetColumnOrNull("TokenIds"));
        Assert.AreEqual(2L, data.GetRowCount());
    }

    [TestMethod]
    public void CreateEnumerableRoundTripsEveryType()
    {
        var context = new PipelineContext(1);
        var rows = Rows();
        var back = context.Data.CreateEnumerable<AllTypesRow>(context.Data.LoadFromEnumerable(rows), reuseRowObject: false).ToList();

        Assert.HasCount(2, back);
        for (var index = 0; index < rows.Length; index++)
        {
            Assert.AreEqual(rows[index].Single, back[index].Single);
            Assert.AreEqual(rows[index].Double, back[index].Double);
            Assert.AreEqual(rows[index].Int32, back[index].Int32);
            Assert.AreEqual(rows[index].Int64, back[index].Int64);
            Assert.AreEqual(rows[index].Flag, back[index].Flag);
            Assert.AreEqual(rows[index].Text, back[index].Text);
            Assert.AreEqual(rows[index].Label, back[index].Label);
            CollectionAssert.AreEqual(rows[index].Features, back[index].Features);
            CollectionAssert.AreEqual(rows[index].TokenIds, back[index].TokenIds);
            CollectionAssert.AreEqual(rows[index].Words, back[index].Words);
            Assert.AreEqual("not a column", back[index].Ignored);
        }
    }

    [TestMethod]
    public void LoadedDataIsACopy()
    {
        var context = new PipelineContext(1);
        var rows = Rows();
        var data = context.Data.LoadFromEnumerable(rows);
        rows[0].Features[0] = 100;
        rows[0].Single = 100;

        var back = context.Data.CreateEnumerable<AllTypesRow>(data, reuseRowObject: false).First();
        Assert.AreEqual(1f, back.Features[0]);
        Assert.AreEqual(1.5f, back.Single);
    }

    [TestMethod]
    public void ReuseRowObjectFillsOneInstance()
    {
        var context = new PipelineContext(1);
        var data = TestData.Numbers(context, 3);

        var reused = context.Data.CreateEnumerable<NumberRow>(data, reuseRowObject: true).ToList();
        var fresh = context.Data.CreateEnumerable<NumberRow>(data, reuseRowObject: false).ToList();

        Assert.AreSame(reused[0], reused[2]);
        Assert.AreNotSame(fresh[0], fresh[2]);
        CollectionAssert.AreEqual(new[] { 0f, 1f, 2f }, fresh.Select(row => row.Value).ToArray());
    }

    [TestMethod]
    public void CreateEnumerableOfMissingColumnThrowsUnlessIgnored()
    {
        var context = new PipelineContext(1);
        var data = context.Data.LoadFromEnumerable([new ValueInput { Value = 4 }]);

        var exception = Assert.ThrowsExactly<SchemaMismatchException>(() => context.Data.CreateEnumerable<NumberRow>(data, reuseRowObject: false));
        Assert.AreEqual("Name", exception.ColumnName);
        var rows = context.Data.CreateEnumerable<NumberRow>(data, reuseRowObject: false, ignoreMissingColumns: true).ToList();
        Assert.AreEqual(4f, rows[0].Value);
        Assert.AreEqual("", rows[0].Name);
    }

    [TestMethod]
    public void BadValuesAndMembersAreRejected()
    {
        var data = new PipelineContext(1).Data;
        Assert.ThrowsExactly<ArgumentException>(() => data.LoadFromEnumerable([new AllTypesRow { Features = [1, 2] }]));
        Assert.ThrowsExactly<ArgumentException>(() => data.LoadFromEnumerable([new AllTypesRow { Features = [1, 2, 3], Label = 6 }]));
        var exception = Assert.ThrowsExactly<InvalidOperationException>(() => data.LoadFromEnumerable([new UnsupportedRow()]));
        StringAssert.Contains(exception.Message, "When");
    }

    public sealed class UnsupportedRow
    {
        public DateTime When { get; set; }
    }
}
