using Pipelines.Data;
using Pipelines.Estimators.Tests.Support;

namespace Pipelines.Estimators.Tests.Transforms;

[TestClass]
public sealed class CustomMappingTests
{
    [TestMethod]
    public void NothingIsComputedUntilTheCursorReadsAnOutput()
    {
        var context = new PipelineContext(1);
        var data = TestData.Numbers(context, 3);
        var calls = 0;
        var transformer = context.Transforms.CustomMapping<ValueInput, DoubledOutput>((input, output) =>
        {
            Interlocked.Increment(ref calls);
            output.Doubled = 2 * input.Value;
            output.Pair = [input.Value, -input.Value];
        }, null).Fit(data);

        var output = transformer.Transform(data);
        Assert.AreEqual(0, calls, "Transform computes nothing");
        using (var cursor = output.GetRowCursor(output.Schema))
        {
            Assert.AreEqual(0, calls, "opening a cursor computes nothing");
            var doubled = cursor.GetGetter<float>(output.Schema["Doubled"]);
            var pair = cursor.GetGetter<ReadOnlyMemory<float>>(output.Schema["Pair"]);
            Assert.AreEqual(0, calls, "creating getters computes nothing");
            Assert.IsTrue(cursor.MoveNext());
            Assert.AreEqual(0, calls, "moving computes nothing until a value is read");

            float value = 0;
            ReadOnlyMemory<float> vector = default;
            doubled(ref value);
            pair(ref vector);
            doubled(ref value);
            Assert.AreEqual(1, calls, "one call per row, whichever outputs are read");
            Assert.AreEqual(0f, value);
            Assert.IsTrue(cursor.MoveNext());
            pair(ref vector);
            Assert.AreEqual(2, calls);
            CollectionAssert.AreEqual(new[] { 1f, -1f }, vector.ToArray());
        }

        using (var cursor = output.GetRowCursor([output.Schema["Name"]]))
        {
            while (cursor.MoveNext()) { }
        }

        Assert.AreEqual(2, calls, "a pass that reads no output column never runs the mapping");
    }

    [TestMethod]
    public void WrongInputTypeNamesColumnAndTypes()
    {
        var context = new PipelineContext(1);
        var data = context.Data.LoadFromEnumerable([new TextValue { Value = "x" }]);
        var estimator = context.Transforms.CustomMapping<ValueInput, DoubledOutput>((_, _) => { }, null);

        var exception = Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.GetOutputSchema(SchemaShape.Create(data.Schema)));
        StringAssert.Contains(exception.Message, "'Value'");
        StringAssert.Contains(exception.Message, "expected Single");
        StringAssert.Contains(exception.Message, "found Text");
        var fitException = Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.Fit(data));
        Assert.AreEqual("Text", fitException.ActualType);
        Assert.AreEqual("Single", fitException.ExpectedType);
    }

    [TestMethod]
    public void OutputColumnsFollowTheOutputClass()
    {
        var context = new PipelineContext(1);
        var data = TestData.Numbers(context, 1);

        var schema = context.Transforms.CustomMapping<ValueInput, DoubledOutput>((_, _) => { }, null).Fit(data).GetOutputSchema(data.Schema);

        Assert.AreEqual(NumberDataViewType.Single, schema["Doubled"].Type);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 2), schema["Pair"].Type);
        Assert.AreEqual(4, schema.Count);
    }

    [TestMethod]
    public void OutputOfTheWrongVectorSizeFailsWhenRead()
    {
        var context = new PipelineContext(1);
        var data = TestData.Numbers(context, 1);
        var output = context.Transforms.CustomMapping<ValueInput, DoubledOutput>((_, output) => output.Pair = [1, 2, 3], null).Fit(data).Transform(data);

        var exception = Assert.ThrowsExactly<ArgumentException>(() => TestData.Values(context.Data.TakeRows(output, 1), "Doubled").Length
            + context.Data.CreateEnumerable<DoubledOutput>(output, reuseRowObject: false).Count());
        StringAssert.Contains(exception.Message, "'Pair'");
    }

    public sealed class TextValue
    {
        public string Value { get; set; } = "";
    }
}
