using Pipelines.Data;
using Pipelines.Estimators.Tests.Support;

namespace Pipelines.Estimators.Tests.Model;

[TestClass]
public sealed class PredictionEngineTests
{
    private static ITransformer Doubler(PipelineContext context, Action<ValueInput, DoubledOutput>? action = null) =>
        context.Transforms.CustomMapping(action ?? ((input, output) =>
        {
            output.Doubled = 2 * input.Value;
            output.Pair = [input.Value, input.Value + 1];
        }), null).Fit(TestData.Numbers(context, 1));

    [TestMethod]
    public void PredictsOneExampleAtATime()
    {
        var context = new PipelineContext(1);
        using var engine = context.Model.CreatePredictionEngine<ValueInput, DoubledOutput>(Doubler(context));

        var first = engine.Predict(new ValueInput { Value = 3 });
        var second = engine.Predict(new ValueInput { Value = -1 });

        Assert.AreEqual(6f, first.Doubled);
        CollectionAssert.AreEqual(new[] { 3f, 4f }, first.Pair);
        Assert.AreEqual(-2f, second.Doubled);
        Assert.AreEqual(NumberDataViewType.Single, engine.OutputSchema["Doubled"].Type);

        var reused = new DoubledOutput();
        engine.Predict(new ValueInput { Value = 5 }, ref reused);
        Assert.AreEqual(10f, reused.Doubled);
    }

    [TestMethod]
    public void OutputMayIncludeInputColumnsAndRunsThroughChains()
    {
        var context = new PipelineContext(1);
        var data = TestData.Numbers(context, 1);
        var model = context.Transforms.CopyColumns("Doubled", "Value").Fit(data);
        using var engine = context.Model.CreatePredictionEngine<ValueInput, ValueAndDoubled>(model);

        var prediction = engine.Predict(new ValueInput { Value = 4 });

        Assert.AreEqual(4f, prediction.Value);
        Assert.AreEqual(4f, prediction.Doubled);
    }

    [TestMethod]
    public void MissingColumnsFailAtCreation()
    {
        var context = new PipelineContext(1);
        var model = Doubler(context);

        var exception = Assert.ThrowsExactly<SchemaMismatchException>(() => context.Model.CreatePredictionEngine<ValueInput, WithExtra>(model));
        Assert.AreEqual("Extra", exception.ColumnName);
        using var lenient = context.Model.CreatePredictionEngine<ValueInput, WithExtra>(model, ignoreMissingColumns: true);
        Assert.AreEqual(2f, lenient.Predict(new ValueInput { Value = 1 }).Doubled);
        Assert.ThrowsExactly<SchemaMismatchException>(() => context.Model.CreatePredictionEngine<WithExtra, DoubledOutput>(model));
    }

    [TestMethod]
    public void NonRowToRowTransformerIsRejected()
    {
        var context = new PipelineContext(1);
        Assert.ThrowsExactly<InvalidOperationException>(() => context.Model.CreatePredictionEngine<ValueInput, DoubledOutput>(new WholeDataTransformer()));
    }

    [TestMethod]
    public void ConcurrentUseOfOneEngineThrows()
    {
        var context = new PipelineContext(1);
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var engine = context.Model.CreatePredictionEngine<ValueInput, DoubledOutput>(Doubler(context, (input, output) =>
        {
            if (input.Value < 0)
            {
                entered.Set();
                release.Wait(TimeSpan.FromSeconds(10));
            }

            output.Doubled = 2 * input.Value;
            output.Pair = [0, 0];
        }));

        var blocked = Task.Run(() => engine.Predict(new ValueInput { Value = -1 }));
        Assert.IsTrue(entered.Wait(TimeSpan.FromSeconds(10)));
        var exception = Assert.ThrowsExactly<InvalidOperationException>(() => engine.Predict(new ValueInput { Value = 1 }));
        StringAssert.Contains(exception.Message, "not thread-safe");
        release.Set();
        Assert.AreEqual(-2f, blocked.Result.Doubled);
        Assert.AreEqual(2f, engine.Predict(new ValueInput { Value = 1 }).Doubled, "the engine works again once free");
    }

    [TestMethod]
    public void OneEnginePerThreadShareATransformer()
    {
        var context = new PipelineContext(1);
        var model = Doubler(context);

        var results = Enumerable.Range(0, 4).AsParallel().Select(thread =>
        {
            using var engine = context.Model.CreatePredictionEngine<ValueInput, DoubledOutput>(model);
            return Enumerable.Range(0, 200).All(index => engine.Predict(new ValueInput { Value = thread * 1000 + index }).Doubled == 2f * (thread * 1000 + index));
        }).ToList();

        Assert.IsTrue(results.All(ok => ok));
    }

    public sealed class ValueAndDoubled
    {
        public float Value { get; set; }

        public float Doubled { get; set; }
    }

    public sealed class WithExtra
    {
        public float Doubled { get; set; }

        public float Extra { get; set; }
    }

    private sealed class WholeDataTransformer : ITransformer
    {
        public bool IsRowToRowMapper => false;

        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inputSchema;

        public IDataView Transform(IDataView input) => input;
    }
}
