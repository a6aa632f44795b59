using Pipelines.Data;

namespace Pipelines.Estimators.Tests.Contracts;

[TestClass]
public sealed class SchemaValidationTests
{
    private static readonly DataViewSchema Schema = new DataViewSchema.Builder()
        .AddColumn("Tokens", new VectorDataViewType(NumberDataViewType.Int32))
        .AddColumn("Features", new VectorDataViewType(NumberDataViewType.Single, 3))
        .AddColumn("Text", TextDataViewType.Instance)
        .AddColumn("Label", new KeyDataViewType(4))
        .ToSchema();

    [TestMethod]
    public void MissingColumnNamesColumnExpectedTypeAndPresentColumns()
    {
        var exception = Assert.ThrowsExactly<SchemaMismatchException>(() =>
            SchemaValidation.RequireColumn(SchemaShape.Create(Schema), "Ids", ColumnRequirement.Vector(NumberDataViewType.Int32)));

        Assert.AreEqual("Ids", exception.ColumnName);
        Assert.IsNull(exception.ActualType);
        StringAssert.Contains(exception.Message, "'Ids'");
        StringAssert.Contains(exception.Message, "Vector<Int32>");
        StringAssert.Contains(exception.Message, "'Tokens'");
    }

    [TestMethod]
    public void WrongTypeNamesColumnExpectedAndActualType()
    {
        var exception = Assert.ThrowsExactly<SchemaMismatchException>(() =>
            SchemaValidation.RequireColumn(Schema, "Text", ColumnRequirement.Vector(NumberDataViewType.Int32)));

        StringAssert.Contains(exception.Message, "'Text'");
        StringAssert.Contains(exception.Message, "expected Vector<Int32>");
        StringAssert.Contains(exception.Message, "found Text");
        Assert.AreEqual("Text", exception.ActualType);
    }

    [TestMethod]
    public void VectorRequirementsCheckItemTypeAndSize()
    {
        var anyInts = ColumnRequirement.Vector(NumberDataViewType.Int32);
        Assert.IsTrue(anyInts.IsSatisfiedBy(Schema["Tokens"].Type));
        Assert.IsTrue(anyInts.IsSatisfiedBy(new VectorDataViewType(NumberDataViewType.Int32, 8)));
        Assert.IsFalse(anyInts.IsSatisfiedBy(Schema["Features"].Type));
        Assert.IsFalse(anyInts.IsSatisfiedBy(NumberDataViewType.Int32));

        var threeFloats = ColumnRequirement.Vector(NumberDataViewType.Single, 3);
        Assert.IsTrue(threeFloats.IsSatisfiedBy(Schema["Features"].Type));
        Assert.IsFalse(threeFloats.IsSatisfiedBy(new VectorDataViewType(NumberDataViewType.Single, 4)), "the type test checks the size");
        Assert.IsTrue(threeFloats.IsSatisfiedBy(SchemaShape.Column.FromType("F", new VectorDataViewType(NumberDataViewType.Single, 4))),
            "a shape has no size, so only the kind is checked");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ColumnRequirement.Vector(NumberDataViewType.Single, 0));
    }

    [TestMethod]
    public void KeyScalarAndAlternatives()
    {
        Assert.IsTrue(ColumnRequirement.Key().IsSatisfiedBy(Schema["Label"].Type));
        Assert.IsFalse(ColumnRequirement.Key().IsSatisfiedBy(NumberDataViewType.UInt32));
        Assert.IsTrue(ColumnRequirement.Exactly(new KeyDataViewType(4)).IsSatisfiedBy(Schema["Label"].Type));
        Assert.IsFalse(ColumnRequirement.Exactly(new KeyDataViewType(5)).IsSatisfiedBy(Schema["Label"].Type));
        Assert.IsTrue(ColumnRequirement.Scalar(TextDataViewType.Instance).IsSatisfiedBy(Schema["Text"].Type));

        var either = ColumnRequirement.OneOf(ColumnRequirement.Scalar(TextDataViewType.Instance), ColumnRequirement.Vector(NumberDataViewType.Int32));
        Assert.IsTrue(either.IsSatisfiedBy(Schema["Text"].Type));
        Assert.IsTrue(either.IsSatisfiedBy(Schema["Tokens"].Type));
        Assert.IsFalse(either.IsSatisfiedBy(Schema["Features"].Type));
        Assert.AreEqual("Text or Vector<Int32> (fixed or variable size)", either.Description);
    }
}
