using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Sparsity;

[TestClass]
public sealed class PruningCriterionTests
{
    /// <summary>Layer A holds large weights, layer B small ones: the two criteria disagree.</summary>
    private static (ParameterArena Arena, ParameterSlice A, ParameterSlice B) TwoLayers()
    {
        var builder = new ParameterArenaBuilder();
        var a = builder.Add("a.weight", ParameterRole.LinearWeight, 2, 2);
        var b = builder.Add("b.weight", ParameterRole.LinearWeight, 2, 2);
        var arena = builder.Build();
        float[] aValues = [1f, -2f, 3f, -4f];
        float[] bValues = [0.4f, -0.1f, 0.3f, -0.2f];
        aValues.CopyTo(arena.ValuesOf(a));
        bValues.CopyTo(arena.ValuesOf(b));
        return (arena, a, b);
    }

    [TestMethod]
    public void LayerwisePrunesEachLayerToTheTarget()
    {
        var (arena, a, b) = TwoLayers();
        var mask = new PruningMask(arena);
        Assert.AreEqual(4, new LayerwiseMagnitudeCriterion().Prune(arena.Values, mask, 0.5));
        CollectionAssert.AreEqual(new[] { 0f, 0f, 1f, 1f }, mask.MaskOf(a).ToArray(), "|1|, |-2| go in A");
        CollectionAssert.AreEqual(new[] { 1f, 0f, 1f, 0f }, mask.MaskOf(b).ToArray(), "|-0.1|, |-0.2| go in B");
    }

    [TestMethod]
    public void GlobalPrunesTheSmallestAcrossLayers()
    {
        var (arena, a, b) = TwoLayers();
        var mask = new PruningMask(arena);
        Assert.AreEqual(4, new GlobalMagnitudeCriterion().Prune(arena.Values, mask, 0.5));
        CollectionAssert.AreEqual(new[] { 1f, 1f, 1f, 1f }, mask.MaskOf(a).ToArray());
        CollectionAssert.AreEqual(new[] { 0f, 0f, 0f, 0f }, mask.MaskOf(b).ToArray());
        Assert.AreEqual(0, mask.SparsityOf(a));
        Assert.AreEqual(1, mask.SparsityOf(b));

        Assert.AreEqual(1, new GlobalMagnitudeCriterion().Prune(arena.Values, mask, 0.625));
        CollectionAssert.AreEqual(new[] { 0f, 1f, 1f, 1f }, mask.MaskOf(a).ToArray(), "next smallest is |1| in A");
    }

    [TestMethod]
    [DataRow(PruningCriterionKind.Layerwise)]
    [DataRow(PruningCriterionKind.Global)]
    public void PrunedStayPrunedAndOnlyKeptWeightsCompete(PruningCriterionKind kind)
    {
        var (arena, a, _) = TwoLayers();
        var criterion = new PruningOptions { TotalSteps = 1, Criterion = kind }.CreateCriterion();
        var mask = new PruningMask(arena, slice => slice == a);
        mask.Prune(a, [3]); // the largest, |-4|, pruned by hand: already 25% sparse
        Assert.AreEqual(0, criterion.Prune(arena.Values, mask, 0.25), "target already met");
        Assert.AreEqual(0, criterion.Prune(arena.Values, mask, 0.1), "a lower target never un-prunes");
        Assert.AreEqual(1, criterion.Prune(arena.Values, mask, 0.5));
        CollectionAssert.AreEqual(new[] { 0f, 1f, 1f, 0f }, mask.MaskOf(a).ToArray(), "|1| is the smallest kept; index 3 stays pruned");
    }

    [TestMethod]
    [DataRow(PruningCriterionKind.Layerwise)]
    [DataRow(PruningCriterionKind.Global)]
    public void TiesGoToTheLowerIndex(PruningCriterionKind kind)
    {
        var arena = SparsityTestArenas.OneLayer(3, 3);
        var weight = arena["layer.weight"];
        float[] values = [2f, -1f, 1f, 1f, 3f, -1f, 1f, 5f, 1f];
        values.CopyTo(arena.ValuesOf(weight));
        var mask = new PruningMask(arena);
        var criterion = new PruningOptions { TotalSteps = 1, Criterion = kind }.CreateCriterion();
        Assert.AreEqual(4, criterion.Prune(arena.Values, mask, 4.0 / 9));
        CollectionAssert.AreEqual(new[] { 1f, 0f, 0f, 0f, 1f, 0f, 1f, 1f, 1f }, mask.MaskOf(weight).ToArray());
    }

    [TestMethod]
    public void PrunedCountIsTheTargetRounded()
    {
        var arena = SparsityTestArenas.OneLayer(7, 11, seed: 5); // 77 weights
        var mask = new PruningMask(arena);
        new LayerwiseMagnitudeCriterion().Prune(arena.Values, mask, 0.3); // 23.1 -> 23
        Assert.AreEqual(23, mask.PrunedCount);
        var weights = arena.ValuesOf(arena["layer.weight"]).ToArray();
        var kept = mask.MaskOf(arena["layer.weight"]).ToArray();
        var largestPruned = weights.Where((_, index) => kept[index] == 0f).Max(MathF.Abs);
        var smallestKept = weights.Where((_, index) => kept[index] != 0f).Min(MathF.Abs);
        Assert.IsTrue(largestPruned <= smallestKept, "every pruned |w| is at most every kept |w|");
        Assert.AreEqual("targetSparsity", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GlobalMagnitudeCriterion().Prune(arena.Values, mask, 1.5)).ParamName);
        Assert.AreEqual("values", Assert.ThrowsExactly<ArgumentException>(() => new LayerwiseMagnitudeCriterion().Prune(new float[3], mask, 0.5)).ParamName);
    }

    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(3, 1)]
    [DataRow(7, 3)]
    [DataRow(33, 17)]
    [DataRow(1000, 1)]
    [DataRow(1000, 999)]
    [DataRow(4099, 2000)]
    public void SelectionMatchesAFullSort(int length, int count)
    {
        var random = new Random(length * 7 + count);
        // Few distinct magnitudes, so ties are everywhere; the index in the key breaks them.
        var inputs = new Func<int, float>[] { index => random.Next(5) - 2f, index => index, index => -index, index => 1f };
        foreach (var input in inputs)
        {
            var keys = Enumerable.Range(0, length).Select(index => MagnitudeSelection.Key(input(index), index)).ToArray();
            var expected = keys.Order().Take(count).ToArray();
            MagnitudeSelection.SelectSmallest(keys, count);
            CollectionAssert.AreEqual(expected, keys.Take(count).Order().ToArray());
        }
    }
}
