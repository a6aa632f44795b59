using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Lora;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Tests.Support;
using static Pipelines.Components.Tests.Lora.LoraTestModels;

namespace Pipelines.Components.Tests.Lora;

[TestClass]
public sealed class SparseMergeTests
{
    [TestMethod]
    public void MergingIntoAPrunedBaseKeepsItsSparsityExactly()
    {
        var gpt = Gpt();
        var mask = new PruningMask(gpt.Parameters);
        var random = new Random(5);
        foreach (var slice in mask.PrunableSlices)
            mask.Prune(slice, Enumerable.Range(0, slice.Length).Where(_ => random.NextDouble() < 0.6).ToArray());
        mask.ApplyTo(gpt.Parameters.Values);
        var pruned = gpt.Parameters.Values.ToArray();

        var lora = new LoraModel(gpt);
        var adapter = lora.Add("task", EveryProjection(), seed: 3);
        Randomize(adapter, seed: 80);
        var result = lora.MergeKeepingSparsity(mask);

        Assert.IsTrue(result.SparsityBefore > 0.55 && result.SparsityBefore < 0.65, $"about 60% pruned ({result.SparsityBefore})");
        Assert.AreEqual(result.SparsityBefore, result.SparsityAfter, "no pruned entry is filled in");
        foreach (var module in adapter.Modules)
        {
            var slice = gpt.Parameters[module.BaseWeightName];
            var keep = mask.MaskOf(slice).ToArray();
            var delta = adapter.Delta(module);
            var merged = gpt.Parameters.ValuesOf(slice).ToArray();
            for (var index = 0; index < merged.Length; index++)
            {
                var expected = keep[index] == 0 ? 0f : pruned[slice.Offset + index] + delta[index];
                Assert.AreEqual(expected, merged[index], 1e-6, $"{slice.Name}[{index}]: W⊙M + (scale·B A)⊙M");
            }
        }

        lora.Unmerge();
        GradientCheck.AssertClose(pruned, gpt.Parameters.Values.ToArray(), "unmerged pruned base", relative: 0, absolute: 1e-6);
    }

    [TestMethod]
    public void ADenseMergeFillsThePrunedEntries()
    {
        var gpt = Gpt();
        var mask = new PruningMask(gpt.Parameters);
        foreach (var slice in mask.PrunableSlices) mask.Prune(slice, Enumerable.Range(0, slice.Length / 2).ToArray());
        mask.ApplyTo(gpt.Parameters.Values);
        var lora = new LoraModel(gpt);
        Randomize(lora.Add("task", EveryProjection(), seed: 3), seed: 81);
        var before = lora.AdaptedWeightSparsity();
        lora.Merge();
        Assert.IsTrue(before >= 0.5 && lora.AdaptedWeightSparsity() < 0.01, $"the plain merge densifies ({before} -> {lora.AdaptedWeightSparsity()})");
    }

    [TestMethod]
    public void AMaskForAnotherArenaIsRejected()
    {
        var lora = new LoraModel(Gpt());
        lora.Add("task", EveryProjection(), seed: 3);
        var other = new PruningMask(Encoder().Parameters);
        Assert.AreEqual("mask", Assert.ThrowsExactly<ArgumentException>(() => lora.MergeKeepingSparsity(other)).ParamName);
    }
}
