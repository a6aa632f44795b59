using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Lora;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tests.Support;
using static Pipelines.Components.Tests.Lora.LoraTestModels;

namespace Pipelines.Components.Tests.Lora;

[TestClass]
public sealed class LoraModelTests
{
    [TestMethod]
    public void AFreshAdapterLeavesLogitsIdenticalBitForBit()
    {
        var gpt = Gpt();
        Run(gpt);
        var baseLogits = gpt.Logits.ToArray();
        new LoraModel(gpt).Add("task", EveryProjection(dropout: 0.1), seed: 9);
        Run(gpt);
        CollectionAssert.AreEqual(Bits(baseLogits), Bits(gpt.Logits.ToArray()), "GPT");

        var encoder = Encoder();
        Run(encoder);
        var encoderLogits = encoder.Logits.ToArray();
        new LoraModel(encoder).Add("task", EveryProjection(dropout: 0.1), seed: 9);
        Run(encoder);
        CollectionAssert.AreEqual(Bits(encoderLogits), Bits(encoder.Logits.ToArray()), "encoder");
    }

    [TestMethod]
    public void InitialisationIsKaimingUniformForAAndZeroForB()
    {
        var adapter = new LoraAdapter(Tiny, EveryProjection(), seed: 1);
        foreach (var module in adapter.Modules)
        {
            var bound = 1 / Math.Sqrt(module.InChannels);
            var down = adapter.Parameters.ValuesOf(module.Down).ToArray();
            Assert.IsTrue(down.All(value => Math.Abs(value) <= bound), $"{module.ModulePath}: A within ±1/sqrt(IC)");
            Assert.IsTrue(adapter.Parameters.ValuesOf(module.Up).ToArray().All(value => value == 0), $"{module.ModulePath}: B = 0");
        }

        // Uniform on [-bound, bound]: |A|/bound is uniform on [0, 1], mean 1/2 (about 400 draws, standard error 0.015).
        var meanMagnitude = adapter.Modules.SelectMany(module => adapter.Parameters.ValuesOf(module.Down).ToArray().Select(value => Math.Abs(value) * Math.Sqrt(module.InChannels))).Average();
        Assert.AreEqual(0.5, meanMagnitude, 0.06);
        Assert.AreEqual("blocks.0.qkv.lora_A.weight", adapter.Parameters.Parameters[0].Name);
        CollectionAssert.AreEqual(new[] { 2, 8 }, adapter.Parameters["blocks.1.qkv.lora_A.weight"].Shape.ToArray());
        CollectionAssert.AreEqual(new[] { 24, 2 }, adapter.Parameters["blocks.1.qkv.lora_B.weight"].Shape.ToArray());
        CollectionAssert.AreEqual(new[] { 2, 32 }, adapter.Parameters["blocks.2.out.lora_A.weight"].Shape.ToArray());
        Assert.AreEqual(2f, adapter.Modules[0].Scale);
        Assert.AreEqual((float)(4 / Math.Sqrt(2)), new LoraAdapter(Tiny, EveryProjection(useRsLora: true), 1).Modules[0].Scale);
    }

    [TestMethod]
    [DataRow(0.0)]
    [DataRow(0.3)]
    public void AdapterGradientsMatchFiniteDifferencesAndTheBaseGetsNone(double dropout)
    {
        var gpt = Gpt();
        var lora = new LoraModel(gpt);
        var adapter = lora.Add("task", EveryProjection(dropout), seed: 5);
        Randomize(adapter, seed: 20, scale: 0.1f);
        var maskState = adapter.DropoutState; // replaying the state replays the dropout masks
        float Loss()
        {
            adapter.DropoutState = maskState;
            return Run(gpt);
        }

        gpt.Parameters.ZeroGradients();
        adapter.Parameters.ZeroGradients();
        Loss();
        gpt.Backward();
        Assert.IsTrue(gpt.Parameters.Gradients.ToArray().All(value => value == 0), "frozen base weights receive no gradient");
        var analytic = adapter.Parameters.Gradients.ToArray();
        foreach (var slice in adapter.Parameters.Parameters)
        {
            var values = adapter.Parameters.ValuesOf(slice).ToArray();
            var numerical = GradientCheck.Numerical(() =>
            {
                values.CopyTo(adapter.Parameters.ValuesOf(slice));
                return Loss();
            }, values, epsilon: 1e-2);
            values.CopyTo(adapter.Parameters.ValuesOf(slice));
            GradientCheck.AssertClose(numerical, analytic.AsSpan(slice.Offset, slice.Length), slice.Name, relative: 3e-2, absolute: 3e-4);
        }
    }

    [TestMethod]
    public void TheBackwardNeverTouchesTheFrozenWeightsGradients()
    {
        // A sentinel in every base gradient: a kernel that computed a frozen weight's gradient, even to add zero, would change it.
        var gpt = Gpt();
        var lora = new LoraModel(gpt);
        var adapter = lora.Add("task", EveryProjection(), seed: 5);
        Randomize(adapter, seed: 21, scale: 0.1f);
        gpt.Parameters.Gradients.Fill(7f);
        adapter.Parameters.ZeroGradients();
        Run(gpt);
        gpt.Backward();
        Assert.IsTrue(gpt.Parameters.Gradients.ToArray().All(value => value == 7f), "the frozen weights' gradient products are skipped");
        Assert.IsTrue(adapter.Parameters.Gradients.ToArray().Any(value => value != 0), "the adapter's gradients are computed");
    }

    [TestMethod]
    public void EncoderAdapterGradientsMatchFiniteDifferences()
    {
        var encoder = Encoder();
        var adapter = new LoraModel(encoder).Add("task", LoraInjectionPlan.Uniform([1, 2], 3, 6, [LoraProjection.Qkv, LoraProjection.Contract]), seed: 6);
        Randomize(adapter, seed: 30, scale: 0.1f);
        adapter.Parameters.ZeroGradients();
        Run(encoder);
        encoder.Backward();
        var analytic = adapter.Parameters.Gradients.ToArray();
        var all = adapter.Parameters.Values.ToArray();
        var numerical = GradientCheck.Numerical(() =>
        {
            all.CopyTo(adapter.Parameters.Values);
            return Run(encoder);
        }, all, epsilon: 1e-2);
        all.CopyTo(adapter.Parameters.Values);
        GradientCheck.AssertClose(numerical, analytic, "encoder adapter", relative: 3e-2, absolute: 3e-4);
    }

    [TestMethod]
    public void MergeMatchesTheAdaptedModelAndUnmergeRestoresTheBase()
    {
        var gpt = Gpt();
        var original = gpt.Parameters.Values.ToArray();
        var lora = new LoraModel(gpt);
        var adapter = lora.Add("task", EveryProjection(dropout: 0.2), seed: 5);
        adapter.Training = false;
        Randomize(adapter, seed: 40);
        Run(gpt);
        var adapted = gpt.Logits.ToArray();
        lora.Merge();
        Assert.IsTrue(lora.IsMerged);
        Run(gpt);
        GradientCheck.AssertClose(adapted, gpt.Logits.ToArray(), "merged logits", relative: 1e-5, absolute: 1e-5);
        var merged = gpt.Parameters.ValuesOf(gpt.Parameters["blocks.1.fc.weight"]).ToArray();
        var delta = adapter.Delta(adapter.Find(1, LoraProjection.Expand)!);
        for (var index = 0; index < merged.Length; index++)
            Assert.AreEqual(original[gpt.Parameters["blocks.1.fc.weight"].Offset + index] + delta[index], merged[index], 1e-6, "W0 + scale·B·A");
        lora.Unmerge();
        GradientCheck.AssertClose(original, gpt.Parameters.Values.ToArray(), "unmerged weights", relative: 0, absolute: 1e-6);
        Run(gpt);
        GradientCheck.AssertClose(adapted, gpt.Logits.ToArray(), "logits after unmerge", relative: 1e-5, absolute: 1e-5);
        Assert.ThrowsExactly<InvalidOperationException>(lora.Unmerge);
    }

    [TestMethod]
    public void SeveralAdaptersShareOneBaseAndSwitch()
    {
        var gpt = Gpt();
        Run(gpt);
        var baseLogits = gpt.Logits.ToArray();
        var lora = new LoraModel(gpt);
        Randomize(lora.Add("first", EveryProjection(), seed: 1), seed: 50);
        Run(gpt);
        var first = gpt.Logits.ToArray();
        Randomize(lora.Add("second", LoraInjectionPlan.Uniform([2], 4, 8, [LoraProjection.Projection]), seed: 2), seed: 60);
        Assert.AreEqual("second", lora.ActiveName);
        Run(gpt);
        var second = gpt.Logits.ToArray();
        Assert.IsFalse(first.SequenceEqual(second), "the adapters differ");
        lora.Activate("first");
        Run(gpt);
        CollectionAssert.AreEqual(first, gpt.Logits.ToArray(), "switching back reproduces the first adapter");
        lora.Deactivate();
        Run(gpt);
        CollectionAssert.AreEqual(baseLogits, gpt.Logits.ToArray(), "no adapter: the base");
        var missing = Assert.ThrowsExactly<KeyNotFoundException>(() => lora.Activate("third"));
        StringAssert.Contains(missing.Message, "'third'");
        var otherShape = new LoraAdapter(new TransformerConfig(layerCount: 3, headCount: 2, channels: 4, contextLength: 6, vocabularySize: 11), EveryProjection(), 1);
        Assert.AreEqual("adapter", Assert.ThrowsExactly<ArgumentException>(() => lora.Add("other", otherShape)).ParamName);
    }

    [TestMethod]
    public void SelectedBaseParametersCanTrainBesideTheAdapter()
    {
        var gpt = Gpt();
        var adapter = new LoraModel(gpt, trainableBase: slice => slice.Name.StartsWith("blocks.2.", StringComparison.Ordinal)).Add("task", EveryProjection(), seed: 1);
        Randomize(adapter, seed: 95, scale: 0.1f);
        gpt.Parameters.ZeroGradients();
        Run(gpt);
        gpt.Backward();
        foreach (var slice in gpt.Parameters.Parameters)
        {
            var moved = gpt.Parameters.GradientsOf(slice).ToArray().Any(value => value != 0);
            Assert.AreEqual(slice.Name.StartsWith("blocks.2.", StringComparison.Ordinal), moved, slice.Name);
        }
    }

    [TestMethod]
    public void DetachRemovesTheTermAndRestoresTrainability()
    {
        var gpt = Gpt();
        gpt.SetTrainable(slice => slice.Name != "wpe.weight");
        Run(gpt);
        var baseLogits = gpt.Logits.ToArray();
        var lora = new LoraModel(gpt);
        Randomize(lora.Add("task", EveryProjection(), seed: 1), seed: 90);
        Assert.IsFalse(gpt.IsTrainable(gpt.Parameters["blocks.0.qkv.weight"]), "attached: frozen");
        lora.Detach();
        Run(gpt);
        CollectionAssert.AreEqual(baseLogits, gpt.Logits.ToArray());
        Assert.IsTrue(gpt.IsTrainable(gpt.Parameters["blocks.0.qkv.weight"]));
        Assert.IsFalse(gpt.IsTrainable(gpt.Parameters["wpe.weight"]), "the earlier choice comes back");
    }

    [TestMethod]
    public void TrainingTheGptAdapterReducesTheLossAndLeavesTheBaseUntouched()
    {
        var gpt = Gpt();
        Raise(gpt); // GPT-2 initial weights give near-uniform logits the frozen tied head cannot sharpen
        var baseValues = gpt.Parameters.Values.ToArray();
        var adapter = new LoraModel(gpt).Add("task", EveryProjection(dropout: 0.05, rank: 4), seed: 7);
        var losses = Train(adapter, () => Run(gpt), gpt.Backward);
        Assert.IsTrue(losses[^1] < 0.8 * losses[0], $"loss {losses[0]:F4} -> {losses[^1]:F4}");
        CollectionAssert.AreEqual(baseValues, gpt.Parameters.Values.ToArray(), "the base is frozen");
    }

    [TestMethod]
    public void TrainingTheEncoderAdapterReducesTheLoss()
    {
        var encoder = Encoder();
        Raise(encoder);
        var adapter = new LoraModel(encoder).Add("task", EveryProjection(dropout: 0.05, rank: 4), seed: 8);
        var losses = Train(adapter, () => Run(encoder), encoder.Backward);
        Assert.IsTrue(losses[^1] < 0.8 * losses[0], $"loss {losses[0]:F4} -> {losses[^1]:F4}");
    }

    private static float[] Train(LoraAdapter adapter, Func<float> forward, Action backward)
    {
        var optimizer = new GradientTransformOptimizer(Optimizers.AdamW(2e-2, weightDecay: 0), adapter.Parameters);
        var losses = new float[40];
        for (var step = 0; step < losses.Length; step++)
        {
            adapter.Parameters.ZeroGradients();
            losses[step] = forward();
            backward();
            optimizer.Step(adapter.Parameters);
        }

        return losses;
    }

    private static void Raise(ITransformerModel model)
    {
        foreach (var slice in model.Parameters.Parameters.Where(slice => slice.IsMatrix))
        {
            var values = model.Parameters.ValuesOf(slice);
            for (var index = 0; index < values.Length; index++) values[index] *= 10f;
        }
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
