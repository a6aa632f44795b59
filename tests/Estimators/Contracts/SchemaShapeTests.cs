using Pipelines.Data;

namespace Pipelines.Estimators.Tests.Contracts;

[TestClass]
public sealed class SchemaShapeTests
{
    [TestMethod]
    public void CreateDescribesKindsAndKeys()
    {
        var schema = new DataViewSchema.Builder()
            .AddColumn("Hidden", NumberDataViewType.Single)
            .AddColumn("Features", new VectorDataViewType(NumberDataViewType.Single, 4))
            .AddColumn("Tokens", new VectorDataViewType(NumberDataViewType.Int32))
            .AddColumn("Label", new KeyDataViewType(10))
            .AddColumn("Hidden", TextDataViewType.Instance)
            .ToSchema();

        var shape = SchemaShape.Create(schema);

        Assert.AreEqual(4, shape.Count);
        Assert.IsTrue(shape.TryFindColumn("Features", out var features));
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, features.Kind);
        Assert.AreEqual("Vector<Single>", features.GetTypeString());
        Assert.IsTrue(shape.TryFindColumn("Tokens", out var tokens));
        Assert.AreEqual("VarVector<Int32>", tokens.GetTypeString());
        Assert.IsTrue(shape.TryFindColumn("Label", out var label));
        Assert.IsTrue(label.IsKey);
        Assert.AreEqual(NumberDataViewType.UInt32, label.ItemType);
        Assert.IsTrue(shape.TryFindColumn("Hidden", out var hidden));
        Assert.AreEqual(TextDataViewType.Instance, hidden.ItemType);
        Assert.IsFalse(shape.TryFindColumn("Absent", out _));
    }

    [TestMethod]
    public void WithColumnsReplacesByName()
    {
        var shape = new SchemaShape([new SchemaShape.Column("A", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, isKey: false)]);

        var replaced = shape.WithColumns(
            new SchemaShape.Column("A", SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, isKey: false),
            new SchemaShape.Column("B", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32, isKey: false));

        Assert.AreEqual(2, replaced.Count);
        Assert.AreEqual(TextDataViewType.Instance, replaced[0].ItemType);
        Assert.AreEqual(1, shape.Count, "shapes are immutable");
    }

    [TestMethod]
    public void ColumnRejectsVectorOrKeyItemType()
    {
        Assert.ThrowsExactly<ArgumentException>(() =>
            new SchemaShape.Column("A", SchemaShape.Column.VectorKind.Vector, new VectorDataViewType(NumberDataViewType.Single, 2), isKey: false));
        Assert.ThrowsExactly<ArgumentException>(() =>
            new SchemaShape.Column("A", SchemaShape.Column.VectorKind.Scalar, new KeyDataViewType(2), isKey: true));
    }
}
