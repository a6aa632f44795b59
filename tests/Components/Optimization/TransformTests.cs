using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Optimization;

/// <summary>Known answers for the building blocks: AdamW's first step, clipping, masks, groups, freezing.</summary>
[TestClass]
public sealed class TransformTests
{
    [TestMethod]
    public void AdamWFirstStepIsMinusRateTimesSignPlusDecayOnMatricesOnly()
    {
        var (arena, weight, bias) = MakeArena(weightShape: [3, 7], biasLength: 5);
        var weightValues = Support.GradientCheck.RandomArray(weight.Length, seed: 1);
        var biasValues = Support.GradientCheck.RandomArray(bias.Length, seed: 2);
        var weightGradients = Support.GradientCheck.RandomArray(weight.Length, seed: 3);
        var biasGradients = Support.GradientCheck.RandomArray(bias.Length, seed: 4);
        weightGradients[4] = 0;
        Load(arena, weight, weightValues, weightGradients);
        Load(arena, bias, biasValues, biasGradients);
        var optimizer = new GradientTransformOptimizer(Optimizers.AdamW(0.01, weightDecay: 0.1), arena);

        optimizer.Step(arena);

        var expectedWeight = weightValues.Select((value, index) => value - 0.01f * (Math.Sign(weightGradients[index]) + 0.1f * value)).ToArray();
        var expectedBias = biasValues.Select((value, index) => value - 0.01f * Math.Sign(biasGradients[index])).ToArray();
        Support.GradientCheck.AssertClose(expectedWeight, arena.ValuesOf(weight), "weight", relative: 1e-6, absolute: 1e-7);
        Support.GradientCheck.AssertClose(expectedBias, arena.ValuesOf(bias), "bias", relative: 1e-6, absolute: 1e-7);
    }

    [TestMethod]
    public void ClipByGlobalNormScalesToTheMaximumAndRecordsTheNorm()
    {
        var (arena, weight, bias) = MakeArena(weightShape: [1, 2], biasLength: 1);
        var updates = new float[arena.BufferLength];
        updates[weight.Offset] = 3;
        updates[weight.Offset + 1] = 4;
        updates[bias.Offset] = 12;
        var clip = new ClipByGlobalNorm(6.5);
        var state = clip.Init(arena);

        clip.Update(updates, arena.Values, state, new UpdateContext(1, arena.Parameters));

        var clipState = (ClipByGlobalNormState)state;
        Assert.AreEqual(13.0, clipState.LastNorm, 1e-12);
        Assert.AreEqual(0.5, clipState.LastScale, 1e-12);
        Assert.IsTrue(clipState.WasClipped);
        CollectionAssert.AreEqual(new[] { 1.5f, 2f, 6f }, new[] { updates[weight.Offset], updates[weight.Offset + 1], updates[bias.Offset] });

        clip.Update(updates, arena.Values, state, new UpdateContext(2, arena.Parameters));

        Assert.AreEqual(6.5, clipState.LastNorm, 1e-6);
        Assert.IsFalse(clipState.WasClipped);
        Assert.AreEqual(6f, updates[bias.Offset]);
    }

    [TestMethod]
    public void ClipNormIsReadableFromTheOptimizerState()
    {
        var (arena, weight, _) = MakeArena(weightShape: [2, 2], biasLength: 3);
        arena.GradientsOf(weight).Fill(2);
        var optimizer = new GradientTransformOptimizer(Optimizers.AdamW(new AdamWOptions(1e-3) { ClipNorm = 1 }), arena);

        optimizer.Step(arena);

        Assert.AreEqual(4.0, optimizer.State.Find<ClipByGlobalNormState>()?.LastNorm ?? double.NaN, 1e-6);
        Assert.AreEqual(0.9, optimizer.State.Find<ScaleByAdamState>()?.Beta1);
        Assert.AreEqual(1e-3, optimizer.State.Find<ScaleByLearningRateState>()?.LastLearningRate);
    }

    [TestMethod]
    public void MaskedActsOnSelectedSlicesAndPassesTheOthersThrough()
    {
        var (arena, weight, bias) = MakeArena(weightShape: [2, 3], biasLength: 3);
        var gradients = Support.GradientCheck.RandomArray(arena.BufferLength, seed: 9);
        var updates = (float[])gradients.Clone();
        var recorder = new RecordingTransform(new ScaleBySign());
        var masked = new Masked(recorder, slice => slice.IsMatrix);
        var state = masked.Init(arena);

        masked.Update(updates, arena.Values, state, new UpdateContext(1, arena.Parameters));

        CollectionAssert.AreEqual(new[] { weight.Name }, recorder.Seen);
        for (var index = 0; index < weight.Length; index++)
            Assert.AreEqual(Math.Sign(gradients[weight.Offset + index]), updates[weight.Offset + index]);
        CollectionAssert.AreEqual(gradients[bias.Range], updates[bias.Range], "the bias passes through");
    }

    [TestMethod]
    public void FreezeKeepsTheSelectedParametersFixed()
    {
        var (arena, weight, bias) = MakeArena(weightShape: [2, 3], biasLength: 3);
        var biasBefore = Support.GradientCheck.RandomArray(bias.Length, seed: 5);
        biasBefore.CopyTo(arena.ValuesOf(bias));
        arena.Gradients.Fill(1);
        var optimizer = new GradientTransformOptimizer(new Chain(Optimizers.AdamW(0.1), new Freeze(slice => slice.Role == ParameterRole.LinearBias)), arena);

        for (var step = 0; step < 3; step++) optimizer.Step(arena);

        CollectionAssert.AreEqual(biasBefore, arena.ValuesOf(bias).ToArray());
        Assert.IsTrue(arena.ValuesOf(weight).ToArray().All(value => value < -0.2f), "the weight moved");
    }

    [TestMethod]
    public void MultiTransformUpdatesEachGroupWithItsOwnChainOnly()
    {
        var (arena, weight, bias) = MakeArena(weightShape: [2, 3], biasLength: 3);
        var gradients = Support.GradientCheck.RandomArray(arena.BufferLength, seed: 11);
        var updates = (float[])gradients.Clone();
        var decayedRecorder = new RecordingTransform(new ScaleByLearningRate(0.5));
        var frozenRecorder = new RecordingTransform(new SetToZero());
        var multi = new MultiTransform(
            new ParameterGroup("trainable", slice => slice.IsMatrix, decayedRecorder),
            new ParameterGroup("frozen", slice => !slice.IsMatrix, frozenRecorder));
        var state = (MultiTransformState)multi.Init(arena);

        multi.Update(updates, arena.Values, state, new UpdateContext(1, arena.Parameters));

        CollectionAssert.AreEqual(new[] { weight.Name }, decayedRecorder.Seen);
        CollectionAssert.AreEqual(new[] { bias.Name }, frozenRecorder.Seen);
        CollectionAssert.AreEqual(gradients[weight.Range].Select(value => value * -0.5f).ToArray(), updates[weight.Range]);
        CollectionAssert.AreEqual(new float[bias.Length], updates[bias.Range]);
        Assert.AreEqual(0.5, ((ScaleByLearningRateState)state["trainable"]).LastLearningRate);
        CollectionAssert.AreEqual(new[] { "trainable", "frozen" }, state.GroupNames.ToArray());
    }

    [TestMethod]
    public void MultiTransformRejectsAParameterInNoGroupOrInSeveral()
    {
        var (arena, _, _) = MakeArena(weightShape: [2, 3], biasLength: 3);
        var missing = new MultiTransform(new ParameterGroup("matrices", slice => slice.IsMatrix, new SetToZero()));
        var overlapping = new MultiTransform(
            new ParameterGroup("all", _ => true, new SetToZero()),
            new ParameterGroup("biases", slice => !slice.IsMatrix, new SetToZero()));

        var none = Assert.ThrowsExactly<ArgumentException>(() => missing.Init(arena));
        var several = Assert.ThrowsExactly<ArgumentException>(() => overlapping.Init(arena));

        StringAssert.Contains(none.Message, "'layer.bias' is in none of the groups");
        StringAssert.Contains(several.Message, "'layer.bias' is in several groups: 'all', 'biases'");
        Assert.ThrowsExactly<ArgumentException>(() => new MultiTransform(
            new ParameterGroup("same", _ => true, new SetToZero()), new ParameterGroup("same", _ => false, new SetToZero())));
    }

    [TestMethod]
    public void ATransformCanReadAMaskBufferItIsGiven()
    {
        // Pruning (another component) will hand a mask laid out like the arena to a transform; this stand-in
        // multiplies the updates by it, and the state buffers are reachable to be masked too.
        var (arena, weight, _) = MakeArena(weightShape: [2, 4], biasLength: 3);
        var mask = new float[arena.BufferLength];
        mask.AsSpan(arena.Parameters[0].Range).Fill(1);
        mask[weight.Offset + 2] = 0;
        arena.Gradients.Fill(1);
        var optimizer = new GradientTransformOptimizer(new Chain(new MultiplyByMask(mask), Optimizers.AdamW(0.1)), arena);

        optimizer.Step(arena);

        Assert.AreEqual(0f, arena.ValuesOf(weight)[2], "masked weight stays zero");
        Assert.AreEqual(0f, optimizer.State.Find<ScaleByAdamState>()!.FirstMoment[weight.Offset + 2], "and so does its moment");
        Assert.AreEqual(-0.1f, arena.ValuesOf(weight)[1], 1e-6f);
        Assert.IsTrue(arena.Values[arena.Parameters[1].Range].ToArray().All(value => value == 0), "the bias is masked out");
        Assert.AreEqual(2, optimizer.State.SelfAndDescendants().OfType<IParameterBufferState>().Sum(state => state.Buffers.Count));
    }

    [TestMethod]
    public void SgdMomentumAndNesterovFollowPyTorch()
    {
        // PyTorch SGD (dampening 0): b1 = g1, b2 = mu*b1 + g2; step = lr*b (Nesterov: lr*(g + mu*b)).
        foreach (var nesterov in new[] { false, true })
        {
            var arena = TestProblems.PointArena(0, 0);
            var optimizer = new GradientTransformOptimizer(Optimizers.Sgd(0.5, momentum: 0.5, nesterov: nesterov), arena);
            arena.Gradients[0] = 2;
            optimizer.Step(arena);
            arena.Gradients[0] = 4;
            optimizer.Step(arena);

            // b1 = 2, b2 = 5. Plain: -0.5*2 - 0.5*5 = -3.5. Nesterov: -0.5*(2 + 1) - 0.5*(4 + 2.5) = -4.75.
            Assert.AreEqual(nesterov ? -4.75f : -3.5f, arena.Values[0], $"nesterov {nesterov}");
        }
    }

    [TestMethod]
    public void ABadLearningRateFromTheScheduleFailsNamingTheStep()
    {
        var arena = TestProblems.PointArena(0, 0);
        var optimizer = new GradientTransformOptimizer(Optimizers.AdamW(new AdamWOptions(new LinearDecay(0.1, 5, floor: double.NaN))), arena);

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => optimizer.Step(arena));

        StringAssert.Contains(error.Message, "step 0");
    }

    internal static (ParameterArena Arena, ParameterSlice Weight, ParameterSlice Bias) MakeArena(int[] weightShape, int biasLength)
    {
        var builder = new ParameterArenaBuilder();
        var weight = builder.Add("layer.weight", ParameterRole.LinearWeight, weightShape);
        var bias = builder.Add("layer.bias", ParameterRole.LinearBias, biasLength);
        return (builder.Build(), weight, bias);
    }

    private static void Load(ParameterArena arena, ParameterSlice slice, float[] values, float[] gradients)
    {
        values.CopyTo(arena.ValuesOf(slice));
        gradients.CopyTo(arena.GradientsOf(slice));
    }

    /// <summary>Records the slices an inner transform is asked to act on.</summary>
    private sealed class RecordingTransform(IGradientTransform inner) : IGradientTransform
    {
        public List<string> Seen { get; } = [];

        public TransformState Init(ParameterArena arena) => inner.Init(arena);

        public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
        {
            Seen.AddRange(context.Parameters.Select(slice => slice.Name));
            inner.Update(updates, parameters, state, context);
        }
    }

    /// <summary>Multiplies the updates by a mask laid out like the arena (a stand-in for pruning's ApplyMask).</summary>
    private sealed class MultiplyByMask(float[] mask) : IGradientTransform
    {
        public TransformState Init(ParameterArena arena) => new EmptyState("MultiplyByMask");

        public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
        {
            foreach (var slice in context.Parameters)
                System.Numerics.Tensors.TensorPrimitives.Multiply(updates[slice.Range], mask.AsSpan(slice.Range), updates[slice.Range]);
        }
    }
}
