using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Privacy;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>DP-SGD steps on the GPT through the batched route: equal to one pass per example, virtual batches, empty batches, the budget, resume.</summary>
[TestClass]
public sealed class BatchedDpStepTests
{
    private static readonly DifferentialPrivacyOptions Seeded =
        new(0.25) { ClipNorm = 0.5, NoiseMultiplier = 1, Randomness = NoiseRandomness.Seeded, Seed = 9, Delta = 1e-3 };

    private static readonly List<int[]> Sequences = ModelPerExampleClippingTests.GptSequences(count: 16, seed: 21);

    [TestMethod]
    public void BatchedRouteEqualsOnePassPerExample()
    {
        var (batchedModel, batched) = MakeStep(Seeded);
        var reference = GptModel.Create(ModelPerExampleClippingTests.Tiny, seed: 7, Parallelism.Sequential);
        var perExample = new DifferentiallyPrivateStep(reference.Parameters, Seeded, Sequences.Count, new ScaleByLearningRate(0.1));
        var initial = reference.Parameters.Values.ToArray();
        for (var step = 0; step < 4; step++)
        {
            var batchedReport = batched.Run();
            var referenceReport = perExample.Run(example =>
            {
                var sequence = Sequences[example];
                reference.Forward(sequence.AsSpan(0, sequence.Length - 1), sequence.AsSpan(1), 1, sequence.Length - 1);
                reference.Backward();
            });
            Assert.AreEqual(referenceReport.BatchSize, batchedReport.BatchSize, $"step {step}: same Poisson batch");
            Assert.AreEqual(referenceReport.ClippedCount, batchedReport.ClippedCount, $"step {step}");
            Assert.AreEqual(referenceReport.Epsilon, batchedReport.Epsilon, 1e-12);
        }

        AssertSameUpdates(initial, reference.Parameters.Values.ToArray(), batchedModel.Parameters.Values.ToArray(), "4 steps");
    }

    [TestMethod]
    public void EncoderBatchedRouteEqualsOnePassPerExample()
    {
        var data = ModelPerExampleClippingTests.EncoderData(count: 16, seed: 8);
        var batchedModel = EncoderClassifier.Create(ModelPerExampleClippingTests.Tiny, classCount: 3, seed: 6, Parallelism.Sequential);
        var batched = new DifferentiallyPrivateStep(new EncoderPerExampleClipping(batchedModel, ClippingGroups.Flat(0.5), data), Seeded, new ScaleByLearningRate(0.1), maximumChunkSize: 3);
        var reference = EncoderClassifier.Create(ModelPerExampleClippingTests.Tiny, classCount: 3, seed: 6, Parallelism.Sequential);
        var perExample = new DifferentiallyPrivateStep(reference.Parameters, Seeded, data.Count, new ScaleByLearningRate(0.1));
        var initial = reference.Parameters.Values.ToArray();
        for (var step = 0; step < 3; step++)
        {
            var batchedReport = batched.Run();
            var referenceReport = perExample.Run(example =>
            {
                reference.Forward(data.Sequences[example], ReadOnlySpan<byte>.Empty, [data.Labels[example]], 1, data.Sequences[example].Length);
                reference.Backward();
            });
            Assert.AreEqual(referenceReport.BatchSize, batchedReport.BatchSize, $"step {step}: same Poisson batch");
            Assert.AreEqual(referenceReport.ClippedCount, batchedReport.ClippedCount, $"step {step}");
        }

        AssertSameUpdates(initial, reference.Parameters.Values.ToArray(), batchedModel.Parameters.Values.ToArray(), "3 steps");
    }

    [TestMethod]
    public void VirtualBatchesChangeNothingButMemory()
    {
        var (whole, wholeStep) = MakeStep(Seeded);
        var (chunked, chunkedStep) = MakeStep(Seeded, maximumChunkSize: 2);
        for (var step = 0; step < 3; step++) Assert.AreEqual(wholeStep.Run().BatchSize, chunkedStep.Run().BatchSize);
        ModelPerExampleClippingTests.AssertRelativeClose(whole.Parameters.Values.ToArray(), chunked.Parameters.Values.ToArray(), "parameters");
        Assert.AreEqual(3L, chunkedStep.Accountant.TotalSteps);
    }

    [TestMethod]
    public void AnEmptyBatchStillAddsNoiseAndSpendsPrivacy()
    {
        var (model, step) = MakeStep(Seeded with { SamplingRate = 0.01 });
        var sizes = new List<int>();
        for (var index = 0; index < 5; index++)
        {
            var before = model.Parameters.Values.ToArray();
            var report = step.Run();
            sizes.Add(report.BatchSize);
            if (report.BatchSize == 0) Assert.IsFalse(before.SequenceEqual(model.Parameters.Values.ToArray()), "noise moved the parameters");
        }

        Assert.IsTrue(sizes.Contains(0), "q N = 0.16: most batches are empty");
        Assert.AreEqual(5L, step.Accountant.TotalSteps);
    }

    [TestMethod]
    public void TrainingStopsBeforeTheStepThatWouldExceedTheBudget()
    {
        var budget = new PrivacyBudget(targetEpsilon: 3, delta: 1e-3);
        var (model, step) = MakeStep(Seeded, budget);
        var reports = step.RunWithinBudget(maximumSteps: 1000);

        Assert.IsTrue(reports.Count is > 0 and < 1000, $"{reports.Count} steps");
        Assert.IsTrue(reports.Zip(reports.Skip(1)).All(pair => pair.Second.Epsilon > pair.First.Epsilon), "epsilon reported each step, increasing");
        Assert.IsTrue(reports[^1].Epsilon <= 3, $"final epsilon {reports[^1].Epsilon}");
        var next = RdpAccountant.Compute(1, 0.25, reports.Count + 1, 1e-3).Epsilon;
        Assert.IsTrue(next > 3, $"one more step would give {next}, within budget: the run stopped early");

        var values = model.Parameters.Values.ToArray();
        Assert.IsTrue(step.Run().BudgetExhausted);
        CollectionAssert.AreEqual(values, model.Parameters.Values.ToArray(), "a refused step changes nothing");
        Assert.AreEqual((long)reports.Count, step.Accountant.TotalSteps);

        var strict = new DifferentiallyPrivateStep(
            new GptPerExampleClipping(GptModel.Create(ModelPerExampleClippingTests.Tiny, seed: 7, Parallelism.Sequential), ClippingGroups.Flat(0.5), Sequences),
            Seeded, new ScaleByLearningRate(0.1), new PrivacyBudget(3, 1e-3, OnBudgetExhausted.Throw));
        for (var index = 0; index < reports.Count; index++) strict.Run();
        var exception = Assert.ThrowsExactly<PrivacyBudgetExhaustedException>(() => strict.Run());
        Assert.AreEqual(3.0, exception.TargetEpsilon);
    }

    [TestMethod]
    public void ResumedRunContinuesTheAccountantsHistoryExactly()
    {
        var (uninterruptedModel, uninterrupted) = MakeStep(Seeded);
        for (var index = 0; index < 5; index++) uninterrupted.Run();

        var (firstModel, first) = MakeStep(Seeded);
        for (var index = 0; index < 3; index++) first.Run();
        using var checkpoint = new MemoryStream();
        using (var writer = new BinaryWriter(checkpoint, System.Text.Encoding.UTF8, leaveOpen: true)) first.SaveState(writer);

        var (resumedModel, resumed) = MakeStep(Seeded);
        firstModel.Parameters.Values.CopyTo(resumedModel.Parameters.Values);
        checkpoint.Position = 0;
        using (var reader = new BinaryReader(checkpoint)) resumed.LoadState(reader);
        Assert.AreEqual(3L, resumed.Accountant.TotalSteps);
        for (var index = 0; index < 2; index++) resumed.Run();

        CollectionAssert.AreEqual(uninterruptedModel.Parameters.Values.ToArray(), resumedModel.Parameters.Values.ToArray(), "same batches and noise");
        Assert.AreEqual(uninterrupted.Accountant.ToJson(), resumed.Accountant.ToJson());
        Assert.AreEqual(uninterrupted.PrivacySpent().Epsilon, resumed.PrivacySpent().Epsilon);
    }

    [TestMethod]
    public void PerGroupClippingAccountsTheEffectiveNoise()
    {
        var model = GptModel.Create(ModelPerExampleClippingTests.Tiny, seed: 7, Parallelism.Sequential);
        var groups = ClippingGroups.PerGroup([0.5, 0.3, 0.3], ModelPerExampleClippingTests.LayerGroup);
        var step = new DifferentiallyPrivateStep(new GptPerExampleClipping(model, groups, Sequences), Seeded, new ScaleByLearningRate(0.1));
        step.Run();
        Assert.AreEqual(1 / Math.Sqrt(3), step.AccountedNoiseMultiplier, 1e-15);
        Assert.AreEqual(RdpAccountant.Compute(1 / Math.Sqrt(3), 0.25, 1, 1e-3).Epsilon, step.PrivacySpent().Epsilon, 1e-12);
    }

    [TestMethod]
    public void SecureNoiseAndSamplingRunWithoutASeed()
    {
        var secure = new DifferentialPrivacyOptions(0.25) { ClipNorm = 0.5, Delta = 1e-3 };
        var (model, step) = MakeStep(secure);
        var before = model.Parameters.Values.ToArray();
        var sizes = Enumerable.Range(0, 3).Select(_ => step.Run().BatchSize).ToArray();
        Assert.IsFalse(before.SequenceEqual(model.Parameters.Values.ToArray()));
        Assert.IsTrue(sizes.All(size => size is >= 0 and <= 16));
        Assert.AreEqual(RdpAccountant.Compute(1, 0.25, 3, 1e-3).Epsilon, step.PrivacySpent().Epsilon, 1e-12);
    }

    [TestMethod]
    public void BadSettingsAreRefusedByName()
    {
        var model = GptModel.Create(ModelPerExampleClippingTests.Tiny, seed: 7, Parallelism.Sequential);
        var source = new GptPerExampleClipping(model, ClippingGroups.Flat(1), Sequences);
        var wrongDelta = Assert.ThrowsExactly<ArgumentException>(() => new DifferentiallyPrivateStep(source, Seeded, new ScaleByLearningRate(0.1), new PrivacyBudget(1, 1e-4)));
        Assert.AreEqual("budget", wrongDelta.ParamName);
        Assert.AreEqual("TargetEpsilon", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new PrivacyBudget(0, 1e-5)).ParamName);
        Assert.AreEqual("maximumChunkSize", Assert.ThrowsExactly<ArgumentOutOfRangeException>(
            () => new DifferentiallyPrivateStep(source, Seeded, new ScaleByLearningRate(0.1), maximumChunkSize: 0)).ParamName);
    }

    /// <summary>The two runs' total updates (parameters minus their common start) agree to 1e-5 relative.</summary>
    private static void AssertSameUpdates(float[] initial, float[] expected, float[] actual, string what) =>
        ModelPerExampleClippingTests.AssertRelativeClose(
            expected.Zip(initial, (value, start) => value - start).ToArray(), actual.Zip(initial, (value, start) => value - start).ToArray(), $"updates after {what}");

    private static (GptModel Model, DifferentiallyPrivateStep Step) MakeStep(DifferentialPrivacyOptions options, PrivacyBudget? budget = null, int maximumChunkSize = int.MaxValue)
    {
        var model = GptModel.Create(ModelPerExampleClippingTests.Tiny, seed: 7, Parallelism.Sequential);
        var source = new GptPerExampleClipping(model, ClippingGroups.Flat(options.ClipNorm), Sequences);
        return (model, new DifferentiallyPrivateStep(source, options, new ScaleByLearningRate(0.1), budget, maximumChunkSize: maximumChunkSize));
    }
}
