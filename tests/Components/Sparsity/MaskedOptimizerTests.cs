using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Optimization;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Sparsity;

/// <summary>
/// A training loop with a tiny Adam shows that, in the documented order, momentum cannot resurrect a pruned
/// weight, and that it does when the chain lacks <see cref="ApplyMaskTransform"/>.
/// </summary>
[TestClass]
public sealed class MaskedOptimizerTests
{
    private const int TotalSteps = 300;

    private enum Loop
    {
        /// <summary>Gradients masked, Chain(Adam, ApplyMask), optimizer state masked at pruning steps.</summary>
        Documented,
        /// <summary>Gradients masked, but no ApplyMask in the chain and no state masking.</summary>
        WithoutApplyMask,
        /// <summary>ApplyMask in the chain, but gradients and state never masked.</summary>
        ApplyMaskOnly,
    }

    [TestMethod]
    public void DocumentedOrderKeepsPrunedWeightsAndTheirStateExactlyZero()
    {
        var result = Train(Loop.Documented);
        Assert.AreEqual(0, result.NonZeroPrunedValuesAfterUpdate, "a pruned weight moved in an optimizer step");
        Assert.AreEqual(0, result.NonZeroPrunedStateEntries, "the optimizer state of a pruned weight is not zero");
        Assert.AreEqual(0.75, result.FinalSparsity, 1e-12);
        Assert.IsTrue(result.KeptWeightsMoved, "kept weights must still train");
    }

    [TestMethod]
    public void WithoutApplyMaskMomentumResurrectsPrunedWeights()
    {
        var result = Train(Loop.WithoutApplyMask);
        Assert.IsTrue(result.NonZeroPrunedValuesAfterUpdate > 0, "momentum built before pruning should move pruned weights");
    }

    [TestMethod]
    public void ApplyMaskAloneProtectsTheValuesButNotTheState()
    {
        var result = Train(Loop.ApplyMaskOnly);
        Assert.AreEqual(0, result.NonZeroPrunedValuesAfterUpdate);
        Assert.IsTrue(result.NonZeroPrunedStateEntries > 0, "unmasked gradients keep feeding the moments of pruned weights");
    }

    private static (int NonZeroPrunedValuesAfterUpdate, int NonZeroPrunedStateEntries, double FinalSparsity, bool KeptWeightsMoved) Train(Loop loop)
    {
        var arena = SparsityTestArenas.OneLayer(4, 6, seed: 8);
        var target = Enumerable.Range(0, arena.BufferLength).Select(index => 1f + 0.1f * (index % 7)).ToArray();
        var pruner = new GradualPruner(arena, new PruningOptions { FinalSparsity = 0.75, PruningInterval = 20, TotalSteps = TotalSteps });
        var adam = new TinyAdam(learningRate: 0.01f);
        var applyMask = new ApplyMaskTransform(pruner.Mask);
        var adamState = adam.Init(arena);
        var maskState = applyMask.Init(arena);
        var updates = new float[arena.BufferLength];
        var nonZeroPruned = 0;
        var keptMoved = false;

        for (var step = 1; step <= TotalSteps; step++)
        {
            // Loss 0.5 * sum (w - target)^2: every pruned weight is pulled away from zero.
            arena.ZeroGradients();
            var values = arena.Values;
            var gradients = arena.Gradients;
            for (var index = 0; index < values.Length; index++) gradients[index] = values[index] - target[index];

            if (loop != Loop.ApplyMaskOnly) applyMask.MaskGradients(gradients);
            gradients.CopyTo(updates);
            var context = new UpdateContext(step, arena.Parameters);
            adam.Update(updates, values, adamState, context);
            if (loop != Loop.WithoutApplyMask) applyMask.Update(updates, values, maskState, context);
            for (var index = 0; index < values.Length; index++)
            {
                var before = values[index];
                values[index] += updates[index];
                if (pruner.Mask.Buffer[index] == 1f && values[index] != before) keptMoved = true;
            }

            nonZeroPruned += CountPrunedNonZero(pruner.Mask, arena.Values);
            pruner.OnStepCompleted(step, arena, loop == Loop.Documented ? _ => Assert.AreEqual(2, applyMask.MaskState(adamState)) : null);
        }

        var stateEntries = 0;
        foreach (var buffer in ((IParameterBufferState)adamState).Buffers) stateEntries += CountPrunedNonZero(pruner.Mask, buffer);
        return (nonZeroPruned, stateEntries, pruner.Mask.PrunableSparsity, keptMoved);
    }

    private static int CountPrunedNonZero(PruningMask mask, ReadOnlySpan<float> buffer)
    {
        var count = 0;
        for (var index = 0; index < buffer.Length; index++)
        {
            if (mask.Buffer[index] == 0f && buffer[index] != 0f) count++;
        }

        return count;
    }

    /// <summary>Adam with the learning rate folded in: update = -lr * mhat / (sqrt(vhat) + eps).</summary>
    private sealed class TinyAdam(float learningRate) : IGradientTransform
    {
        public TransformState Init(ParameterArena arena) => new State(arena.BufferLength);

        public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
        {
            var (first, second) = ((State)state).Moments;
            const float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;
            var correction1 = 1 - MathF.Pow(beta1, context.Step);
            var correction2 = 1 - MathF.Pow(beta2, context.Step);
            foreach (var slice in context.Parameters)
            {
                for (var index = slice.Offset; index < slice.Offset + slice.Length; index++)
                {
                    first[index] = beta1 * first[index] + (1 - beta1) * updates[index];
                    second[index] = beta2 * second[index] + (1 - beta2) * updates[index] * updates[index];
                    updates[index] = -learningRate * (first[index] / correction1) / (MathF.Sqrt(second[index] / correction2) + epsilon);
                }
            }
        }

        private sealed class State(int length) : TransformState, IParameterBufferState
        {
            public (float[] First, float[] Second) Moments { get; } = (new float[length], new float[length]);

            public IReadOnlyList<float[]> Buffers => [Moments.First, Moments.Second];

            public override void Write(BinaryWriter writer) => throw new NotSupportedException();

            public override void Read(BinaryReader reader) => throw new NotSupportedException();
        }
    }
}
