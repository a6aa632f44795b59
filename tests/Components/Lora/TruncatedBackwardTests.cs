using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Lora;
using Pipelines.Components.Models;
using Pipelines.Components.Tensors;
using static Pipelines.Components.Tests.Lora.LoraTestModels;

namespace Pipelines.Components.Tests.Lora;

[TestClass]
public sealed class TruncatedBackwardTests
{
    private const float Sentinel = 7f;

    [TestMethod]
    [DataRow("2", "", 0.0, 2)]
    [DataRow("2", "blocks.1.fc.weight", 0.0, 1)]
    [DataRow("1,2", "blocks.0.ln1.weight", 0.3, 0)]
    [DataRow("0,1,2", "", 0.3, 0)]
    [DataRow("2", "lnf.bias", 0.0, 2)]
    [DataRow("", "", 0.0, 3)]
    [DataRow("2", "wpe.weight", 0.0, -1)]
    public void TrainableGradientsAreBitIdenticalWithAndWithoutTruncation(string layers, string trainable, double dropout, int expectedStop)
    {
        var plan = LoraInjectionPlan.Uniform(Layers(layers), 2, 4, LoraProjections.All, dropout);
        bool Trainable(ParameterSlice slice) => slice.Name == trainable;
        (float[] Base, float[] Adapter, int? Stop) Step(bool truncate)
        {
            var gpt = Gpt();
            var lora = new LoraModel(gpt, Trainable);
            var adapter = lora.Add("task", plan, seed: 5);
            Randomize(adapter, seed: 40, scale: 0.2f);
            lora.TruncateBackward = truncate;
            gpt.Parameters.Gradients.Fill(Sentinel);
            adapter.Parameters.ZeroGradients();
            Run(gpt);
            gpt.Backward();
            return (gpt.Parameters.Gradients.ToArray(), adapter.Parameters.Gradients.ToArray(), gpt.Stack.LastBackwardStop);
        }

        var full = Step(truncate: false);
        var truncated = Step(truncate: true);
        Assert.IsNull(full.Stop, "without truncation the backward runs to the embeddings");
        Assert.AreEqual(expectedStop < 0 ? null : expectedStop, truncated.Stop, "where the truncated backward stops");
        CollectionAssert.AreEqual(Bits(full.Base), Bits(truncated.Base), "base gradients (trainable ones bit-identical, frozen ones untouched)");
        CollectionAssert.AreEqual(Bits(full.Adapter), Bits(truncated.Adapter), "adapter gradients bit-identical");

        var gptForNames = Gpt();
        foreach (var slice in gptForNames.Parameters.Parameters)
        {
            var gradient = truncated.Base.AsSpan(slice.Offset, slice.Length);
            if (slice.Name == trainable) Assert.IsTrue(gradient.ToArray().Any(value => value != Sentinel), $"{slice.Name} trains and gets a gradient");
            else Assert.IsTrue(gradient.ToArray().All(value => value == Sentinel), $"{slice.Name} is frozen and its gradient untouched");
        }

        if (plan.Layers.Count > 0) Assert.IsTrue(truncated.Adapter.Any(value => value != 0), "the adapter gets gradients");
    }

    [TestMethod]
    public void EncoderTrainableHeadAndAdapterGradientsAreBitIdenticalWithTruncation()
    {
        float[][] Step(bool truncate)
        {
            var encoder = Encoder();
            var lora = new LoraModel(encoder, slice => slice.Name.StartsWith("head.", StringComparison.Ordinal));
            var adapter = lora.Add("task", LoraInjectionPlan.Uniform([2], 2, 4, LoraProjections.All), seed: 6);
            Randomize(adapter, seed: 41, scale: 0.2f);
            lora.TruncateBackward = truncate;
            encoder.Parameters.ZeroGradients();
            adapter.Parameters.ZeroGradients();
            Run(encoder);
            encoder.Backward();
            Assert.AreEqual(truncate ? 2 : null, encoder.Stack.LastBackwardStop);
            return [encoder.Parameters.Gradients.ToArray(), adapter.Parameters.Gradients.ToArray()];
        }

        var (full, truncated) = (Step(truncate: false), Step(truncate: true));
        CollectionAssert.AreEqual(Bits(full[0]), Bits(truncated[0]), "encoder gradients (the head's)");
        CollectionAssert.AreEqual(Bits(full[1]), Bits(truncated[1]), "adapter gradients");
        Assert.IsTrue(full[0].Any(value => value != 0), "the head gets a gradient");
    }

    [TestMethod]
    public void TruncationIsOffUnlessTheTrainingPathAsksAndActivationGradientsBelowStayComputed()
    {
        // Layer diagnostics and DP per-example norms read every block's activation gradients: by default an adapted model
        // back-propagates through every block, as the plain model does (a fresh adapter, B = 0, changes nothing).
        var plain = Gpt();
        Run(plain);
        plain.Backward();
        var gpt = Gpt();
        var lora = new LoraModel(gpt);
        lora.Add("task", LoraInjectionPlan.Uniform([2], 2, 4, LoraProjections.All), seed: 5);
        Assert.IsFalse(lora.TruncateBackward);
        Run(gpt);
        gpt.Backward();
        for (var layer = 0; layer < Tiny.LayerCount; layer++)
            CollectionAssert.AreEqual(Bits(plain.Stack.BlockInputGradient(layer).ToArray()), Bits(gpt.Stack.BlockInputGradient(layer).ToArray()), $"block {layer} input gradient");
        Assert.IsTrue(gpt.Stack.BlockInputGradient(0).ToArray().Any(value => value != 0), "the lowest block's input gradient is computed");

        lora.TruncateBackward = true;
        Assert.AreEqual(2, gpt.Stack.LowestLayerNeedingGradients());
        lora.Detach();
        Assert.IsFalse(lora.TruncateBackward, "detaching turns truncation off");
    }

    private static int[] Layers(string text) => text.Length == 0 ? [] : text.Split(',').Select(int.Parse).ToArray();

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
