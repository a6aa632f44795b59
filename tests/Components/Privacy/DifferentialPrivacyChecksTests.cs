using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Privacy;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>The validator refuses set-ups that void the guarantee; the canary step catches frozen or pruned weights that move.</summary>
[TestClass]
public sealed class DifferentialPrivacyChecksTests
{
    private static readonly DifferentialPrivacyOptions Seeded =
        new(0.25) { ClipNorm = 0.5, NoiseMultiplier = 1, Randomness = NoiseRandomness.Seeded, Seed = 3, Delta = 1e-3 };

    private static readonly List<int[]> Sequences = ModelPerExampleClippingTests.GptSequences(count: 16, seed: 5);

    [TestMethod]
    public void PoissonBatchesOnTheEnginesModelsPass()
    {
        var gpt = GptModel.Create(ModelPerExampleClippingTests.Tiny, seed: 1, Parallelism.Sequential);
        var encoder = EncoderClassifier.Create(ModelPerExampleClippingTests.Tiny, classCount: 2, seed: 1, Parallelism.Sequential);
        Assert.AreEqual(0, DifferentialPrivacyValidator.Problems(gpt, new DifferentialPrivacyPlan()).Count);
        Assert.AreEqual(0, DifferentialPrivacyValidator.Problems(encoder, new DifferentialPrivacyPlan()).Count);
        DifferentialPrivacyValidator.Validate(gpt, new DifferentialPrivacyPlan());
    }

    [TestMethod]
    public void EachVoidingSetUpIsRefusedWithItsReason()
    {
        var gpt = GptModel.Create(ModelPerExampleClippingTests.Tiny, seed: 1, Parallelism.Sequential);
        var plan = new DifferentialPrivacyPlan { Sampling = BatchSampling.FixedSizeShuffled, AccumulatedBatches = 4, BatchDependentLayers = ["blocks.0.batchnorm"] };
        var exception = Assert.ThrowsExactly<InvalidOperationException>(() => DifferentialPrivacyValidator.Validate(gpt, plan));
        StringAssert.Contains(exception.Message, "Poisson sampling");
        StringAssert.Contains(exception.Message, "AccumulatedBatches is 4");
        StringAssert.Contains(exception.Message, "'blocks.0.batchnorm' depends on the whole batch");
        Assert.AreEqual(3, DifferentialPrivacyValidator.Problems(gpt, plan).Count);

        var unsupported = DifferentialPrivacyValidator.Problems(new ModelWithoutPerExampleSupport(gpt), new DifferentialPrivacyPlan());
        Assert.AreEqual(1, unsupported.Count);
        StringAssert.Contains(unsupported[0], "ModelWithoutPerExampleSupport has no per-example gradient support");
    }

    [TestMethod]
    public void CanaryPassesWhenFrozenAndPrunedWeightsStayPut()
    {
        var (model, mask) = FrozenAndPrunedModel();
        var step = new DifferentiallyPrivateStep(
            new GptPerExampleClipping(model, ClippingGroups.Flat(0.5), Sequences), Seeded, new Chain(new ScaleByLearningRate(0.1), new ApplyMaskTransform(mask)));
        var before = model.Parameters.Values.ToArray();
        var reports = DifferentialPrivacyCanary.Run(step, model.IsTrainable, mask);

        Assert.IsTrue(reports[^1].BatchSize > 0);
        Assert.AreEqual((long)reports.Count, step.Accountant.TotalSteps, "the canary is an accounted step");
        var frozen = model.Parameters["blocks.0.qkv.weight"];
        CollectionAssert.AreEqual(before.AsSpan(frozen.Range).ToArray(), model.Parameters.ValuesOf(frozen).ToArray());
    }

    [TestMethod]
    public void CanaryCatchesNoiseOnPrunedWeights()
    {
        var (model, mask) = FrozenAndPrunedModel();
        var step = new DifferentiallyPrivateStep(new GptPerExampleClipping(model, ClippingGroups.Flat(0.5), Sequences), Seeded, new ScaleByLearningRate(0.1));
        var exception = Assert.ThrowsExactly<InvalidOperationException>(() => DifferentialPrivacyCanary.Run(step, model.IsTrainable, mask));
        StringAssert.Contains(exception.Message, "Pruned weight blocks.1.fc.weight[");
    }

    [TestMethod]
    public void CanaryCatchesAParameterFrozenAfterTheStepWasBuilt()
    {
        var model = GptModel.Create(ModelPerExampleClippingTests.Tiny, seed: 2, Parallelism.Sequential);
        var step = new DifferentiallyPrivateStep(new GptPerExampleClipping(model, ClippingGroups.Flat(0.5), Sequences), Seeded, new ScaleByLearningRate(0.1));
        model.SetTrainable(parameter => parameter.Name != "lnf.bias"); // too late: the optimizer still noises it
        var exception = Assert.ThrowsExactly<InvalidOperationException>(() => DifferentialPrivacyCanary.Run(step, model.IsTrainable));
        StringAssert.Contains(exception.Message, "Frozen parameter 'lnf.bias' changed.");
    }

    private static (GptModel Model, PruningMask Mask) FrozenAndPrunedModel()
    {
        var model = GptModel.Create(ModelPerExampleClippingTests.Tiny, seed: 2, Parallelism.Sequential);
        model.SetTrainable(parameter => parameter.Name != "blocks.0.qkv.weight");
        var mask = new PruningMask(model.Parameters);
        mask.Prune(model.Parameters["blocks.1.fc.weight"], [0, 5, 17, 40]);
        mask.ApplyTo(model.Parameters.Values);
        return (model, mask);
    }

    private sealed class ModelWithoutPerExampleSupport(GptModel inner) : ITransformerModel
    {
        public TransformerConfig Config => inner.Config;

        public ParameterArena Parameters => inner.Parameters;

        public TransformerStack Stack => inner.Stack;

        public int BatchSize => inner.BatchSize;

        public int TokenCount => inner.TokenCount;

        public void SetTrainable(Func<ParameterSlice, bool> predicate) => inner.SetTrainable(predicate);

        public bool IsTrainable(ParameterSlice parameter) => inner.IsTrainable(parameter);
    }
}
