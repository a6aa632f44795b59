using Microsoft.ML;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Pretraining;

namespace Pipelines.Estimators.Tests.Pretraining;

[TestClass]
public sealed class CausalLanguageModelOptionsTests
{
    public static IEnumerable<object[]> BadValues =>
    [
        [nameof(CausalLanguageModelOptions.BatchSize), 0, (Func<CausalLanguageModelOptions>)(() => new() { BatchSize = 0 })],
        [nameof(CausalLanguageModelOptions.Steps), 0L, (Func<CausalLanguageModelOptions>)(() => new() { Steps = 0 })],
        [nameof(CausalLanguageModelOptions.Epochs), 0.0, (Func<CausalLanguageModelOptions>)(() => new() { Epochs = 0 })],
        [nameof(CausalLanguageModelOptions.Epochs), double.PositiveInfinity, (Func<CausalLanguageModelOptions>)(() => new() { Epochs = double.PositiveInfinity })],
        [nameof(CausalLanguageModelOptions.SequenceLength), 0, (Func<CausalLanguageModelOptions>)(() => new() { SequenceLength = 0 })],
        [nameof(CausalLanguageModelOptions.EndOfTextTokenId), -2, (Func<CausalLanguageModelOptions>)(() => new() { EndOfTextTokenId = -2 })],
        [nameof(CausalLanguageModelOptions.EvaluationInterval), -1, (Func<CausalLanguageModelOptions>)(() => new() { EvaluationInterval = -1 })],
        [nameof(CausalLanguageModelOptions.EvaluationBatches), 0, (Func<CausalLanguageModelOptions>)(() => new() { EvaluationBatches = 0 })],
        [nameof(CausalLanguageModelOptions.LearningRate), 0.0, (Func<CausalLanguageModelOptions>)(() => new() { LearningRate = 0 })],
        [nameof(CausalLanguageModelOptions.LearningRate), double.NaN, (Func<CausalLanguageModelOptions>)(() => new() { LearningRate = double.NaN })],
        [nameof(CausalLanguageModelOptions.WeightDecay), -0.1, (Func<CausalLanguageModelOptions>)(() => new() { WeightDecay = -0.1 })],
        [nameof(CausalLanguageModelOptions.GradientClipNorm), 0.0, (Func<CausalLanguageModelOptions>)(() => new() { GradientClipNorm = 0 })],
        [nameof(CausalLanguageModelOptions.ThreadCount), 0, (Func<CausalLanguageModelOptions>)(() => new() { ThreadCount = 0 })],
        [nameof(CausalLanguageModelOptions.CheckpointInterval), -5, (Func<CausalLanguageModelOptions>)(() => new() { CheckpointInterval = -5 })],
    ];

    [TestMethod]
    [DynamicData(nameof(BadValues))]
    public void EachBadValueIsNamedWithItsValue(string option, object value, Func<CausalLanguageModelOptions> create)
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => create());

        Assert.AreEqual(option, error.ParamName);
        Assert.AreEqual(value, error.ActualValue);
    }

    [TestMethod]
    public void ConflictingOptionsFailWhenTheEstimatorIsMade()
    {
        var catalog = new MLContext(seed: 1).Pretraining();
        var tiny = new CausalLanguageModelOptions { Model = new TransformerConfig(1, 1, 8, contextLength: 16) };

        var sequence = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => catalog.CausalLanguageModel(tiny with { SequenceLength = 17 }));
        var checkpoint = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => catalog.CausalLanguageModel(tiny with { CheckpointInterval = 10 }));
        var columns = Assert.ThrowsExactly<ArgumentException>(() => catalog.CausalLanguageModel(tiny with { LossColumnName = "Tokens" }));

        Assert.AreEqual(nameof(CausalLanguageModelOptions.SequenceLength), sequence.ParamName);
        Assert.AreEqual(17, sequence.ActualValue);
        Assert.AreEqual(nameof(CausalLanguageModelOptions.CheckpointPath), checkpoint.ParamName);
        Assert.AreEqual(nameof(CausalLanguageModelOptions.LossColumnName), columns.ParamName);
    }

    [TestMethod]
    public void NamesAndPathsMustNotBeEmpty()
    {
        Assert.AreEqual(nameof(CausalLanguageModelOptions.TokensColumnName), Assert.ThrowsExactly<ArgumentException>(() => new CausalLanguageModelOptions("")).ParamName);
        Assert.AreEqual(nameof(CausalLanguageModelOptions.CheckpointPath), Assert.ThrowsExactly<ArgumentException>(() => new CausalLanguageModelOptions { CheckpointPath = " " }).ParamName);
        Assert.AreEqual(nameof(CausalLanguageModelOptions.ResumeFrom), Assert.ThrowsExactly<ArgumentException>(() => new CausalLanguageModelOptions { ResumeFrom = "" }).ParamName);
        Assert.AreEqual(nameof(CausalLanguageModelOptions.ValidationTextColumnName),
            Assert.ThrowsExactly<ArgumentException>(() => new CausalLanguageModelOptions { ValidationTextColumnName = "" }).ParamName);
        Assert.ThrowsExactly<ArgumentNullException>(() => new CausalLanguageModelOptions { Model = null! });
    }

    [TestMethod]
    public void DefaultScheduleWarmsUpHoldsThenDecaysToZero()
    {
        var options = new CausalLanguageModelOptions { LearningRate = 0.01 };

        var schedule = options.ResolveSchedule(1000);

        // Steps 0..999: the first update at peak / 50, the last at the floor.
        Assert.AreEqual(0.0002, schedule.ValueAt(0), 1e-12);
        Assert.AreEqual(0.01, schedule.ValueAt(49), 1e-12, "5% warm-up");
        Assert.AreEqual(0.01, schedule.ValueAt(799), 1e-12, "stable until the last 20%");
        Assert.AreEqual(0.005, schedule.ValueAt(899), 1e-12, "linear decay");
        Assert.AreEqual(0.0, schedule.ValueAt(999), 1e-12);
        Assert.AreEqual(0.01, options.ResolveSchedule(1).ValueAt(0), 1e-12, "a one-step run still trains");
        var custom = new ConstantSchedule(0.3);
        Assert.AreSame(custom, (options with { LearningRateSchedule = custom }).ResolveSchedule(1000));
    }

    [TestMethod]
    public void EpochsReplaceStepsAndRoundUp()
    {
        var options = new CausalLanguageModelOptions { Steps = 7, BatchSize = 4, SequenceLength = 10 };

        Assert.AreEqual(7, options.ResolveSteps(1000));
        Assert.AreEqual(25, (options with { Epochs = 1 }).ResolveSteps(1000));
        Assert.AreEqual(38, (options with { Epochs = 1.5 }).ResolveSteps(1000));
        Assert.AreEqual(1, (options with { Epochs = 0.001 }).ResolveSteps(1000));
    }

    [TestMethod]
    public void ClippingIsChainedInFrontOfTheOptimizer()
    {
        var options = new CausalLanguageModelOptions { Optimizer = schedule => Optimizers.Sgd(0.1) };

        var clipped = (Chain)options.ResolveOptimizer(new ConstantSchedule(0.1));
        var unclipped = (options with { GradientClipNorm = null }).ResolveOptimizer(new ConstantSchedule(0.1));

        Assert.IsInstanceOfType<ClipByGlobalNorm>(clipped.Transforms[0]);
        Assert.AreEqual(1.0, ((ClipByGlobalNorm)clipped.Transforms[0]).MaxNorm);
        Assert.IsNotInstanceOfType<ClipByGlobalNorm>(((Chain)unclipped).Transforms[0]);
    }
}

[TestClass]
public sealed class CausalLanguageModelSeedTests
{
    [TestMethod]
    public void WithoutAnExplicitSeedTheContextsSeedDecides()
    {
        var options = new CausalLanguageModelOptions();

        var first = new MLContext(seed: 3).Pretraining().CausalLanguageModel(options).Seed;
        var again = new MLContext(seed: 3).Pretraining().CausalLanguageModel(options).Seed;
        var context = new MLContext(seed: 4);
        var other = context.Pretraining().CausalLanguageModel(options).Seed;
        var next = context.Pretraining().CausalLanguageModel(options).Seed;

        Assert.AreEqual(first, again, "the same context seed gives the same run");
        Assert.AreNotEqual(first, other);
        Assert.AreNotEqual(other, next, "each estimator draws its own seed, as ML.NET trainers do");
        Assert.AreEqual(17, new MLContext(seed: 3).Pretraining().CausalLanguageModel(options with { Seed = 17 }).Seed);
    }
}
