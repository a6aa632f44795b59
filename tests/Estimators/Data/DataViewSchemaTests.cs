using Pipelines.Data;

namespace Pipelines.Estimators.Tests.Data;

[TestClass]
public sealed class DataViewSchemaTests
{
    [TestMethod]
    public void ColumnsHaveIndexNameAndType()
    {
        var schema = new DataViewSchema.Builder()
            .AddColumn("A", NumberDataViewType.Single)
            .AddColumn("B", TextDataViewType.Instance)
            .ToSchema();

        Assert.AreEqual(2, schema.Count);
        Assert.AreEqual(1, schema["B"].Index);
        Assert.AreEqual(TextDataViewType.Instance, schema["B"].Type);
        Assert.AreEqual("A", schema[0].Name);
        Assert.IsNull(schema.GetColumnOrNull("C"));
    }

    [TestMethod]
    public void LaterColumnHidesEarlierOfSameName()
    {
        var schema = new DataViewSchema.Builder()
            .AddColumn("A", NumberDataViewType.Single)
            .AddColumn("B", NumberDataViewType.Int32)
            .AddColumn("A", TextDataViewType.Instance)
            .ToSchema();

        Assert.IsTrue(schema[0].IsHidden);
        Assert.IsFalse(schema[2].IsHidden);
        Assert.AreEqual(2, schema["A"].Index);
        Assert.AreEqual(TextDataViewType.Instance, schema["A"].Type);
    }

    [TestMethod]
    public void MissingNameThrowsNamingColumnAndPresentOnes()
    {
        var schema = new DataViewSchema.Builder().AddColumn("Present", NumberDataViewType.Single).ToSchema();

        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => schema["Absent"]);
        StringAssert.Contains(exception.Message, "'Absent'");
        StringAssert.Contains(exception.Message, "'Present'");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => schema[1]);
    }

    [TestMethod]
    public void EmptyColumnNameThrows() =>
        Assert.ThrowsExactly<ArgumentException>(() => new DataViewSchema.Builder().AddColumn(" ", NumberDataViewType.Single));
}
