using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Lora;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;
using Pipelines.Components.Tests.Support;
using static Pipelines.Components.Tests.Lora.LoraTestModels;

namespace Pipelines.Components.Tests.Lora;

[TestClass]
public sealed class AdaptedBaseUpdateTests
{
    [TestMethod]
    public void SkippingTheFrozenSlicesGivesTheFullPassBitForBit()
    {
        static bool Trainable(ParameterSlice slice) => slice.Name is "lnf.weight" or "blocks.1.fc.bias";
        var (skipping, full) = (Gpt(), Gpt());
        var initial = full.Parameters.Values.ToArray();
        // The same update wrapped in a Chain is not a partial transform, so that optimizer runs the full pass.
        var skippingOptimizer = new GradientTransformOptimizer(new AdaptedBaseUpdate(Optimizers.AdamW(1e-2), "plan", Trainable), skipping.Parameters);
        var fullOptimizer = new GradientTransformOptimizer(new Chain(new AdaptedBaseUpdate(Optimizers.AdamW(1e-2), "plan", Trainable)), full.Parameters);
        for (var step = 0; step < 3; step++)
        {
            var gradients = GradientCheck.RandomArray(full.Parameters.BufferLength, 50 + step);
            gradients.CopyTo(skipping.Parameters.Gradients);
            gradients.CopyTo(full.Parameters.Gradients);
            skippingOptimizer.Step(skipping.Parameters);
            fullOptimizer.Step(full.Parameters);
            CollectionAssert.AreEqual(Bits(full.Parameters.Values.ToArray()), Bits(skipping.Parameters.Values.ToArray()), $"values after step {step + 1}");
            foreach (var slice in full.Parameters.Parameters) // (the arena pads between slices; nothing reads the padding's updates)
            {
                CollectionAssert.AreEqual(Bits(fullOptimizer.LastUpdates[slice.Range].ToArray()), Bits(skippingOptimizer.LastUpdates[slice.Range].ToArray()),
                    $"{slice.Name}'s updates of step {step + 1}");
            }
        }

        foreach (var slice in skipping.Parameters.Parameters)
        {
            var moved = !skipping.Parameters.ValuesOf(slice).SequenceEqual(initial.AsSpan(slice.Offset, slice.Length));
            Assert.AreEqual(Trainable(slice), moved, $"{slice.Name} moves only if it trains");
        }
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
