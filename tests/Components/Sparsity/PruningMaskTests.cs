using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Sparsity;

[TestClass]
public sealed class PruningMaskTests
{
    [TestMethod]
    public void DefaultPredicateSelectsOnlyLinearWeights()
    {
        var arena = SparsityTestArenas.AllRoles();
        var mask = new PruningMask(arena);
        CollectionAssert.AreEqual(new[] { "a.weight", "b.weight" }, mask.PrunableSlices.Select(slice => slice.Name).ToArray());
        Assert.AreEqual(arena.BufferLength, mask.BufferLength);
        Assert.AreEqual(27, mask.PrunableCount);
        Assert.AreEqual(arena.ParameterCount, mask.NonZeroCount);
        Assert.IsTrue(mask.Buffer.ToArray().All(entry => entry == 1f), "a new mask keeps everything");

        var custom = new PruningMask(arena, slice => slice.Name == "wte.weight");
        CollectionAssert.AreEqual(new[] { "wte.weight" }, custom.PrunableSlices.Select(slice => slice.Name).ToArray());
    }

    [TestMethod]
    public void ApplyToZeroesExactlyThePrunedEntries()
    {
        var arena = SparsityTestArenas.AllRoles();
        var mask = new PruningMask(arena);
        var a = arena["a.weight"];
        int[] pruned = [0, 5, 8, 9, 20];  // 21 entries: both a vector body and a scalar tail
        Assert.AreEqual(5, mask.Prune(a, pruned));
        Assert.AreEqual(0, mask.Prune(a, [5]), "pruning twice counts once");

        var before = arena.Values.ToArray();
        arena.Values[a.Offset + 8] = float.NaN;
        arena.Values[a.Offset + 9] = float.NegativeInfinity;
        arena.Values[a.Offset + 20] = -3f;
        mask.ApplyTo(arena.Values);
        var after = arena.Values.ToArray();
        for (var position = 0; position < after.Length; position++)
        {
            var isPruned = position >= a.Offset && position < a.Offset + a.Length && pruned.Contains(position - a.Offset);
            if (isPruned) Assert.AreEqual(0u, BitConverter.SingleToUInt32Bits(after[position]), $"position {position} must be +0");
            else Assert.AreEqual(before[position], after[position], $"position {position} untouched");
        }

        Assert.AreEqual(5, mask.PrunedCountOf(a));
        Assert.AreEqual(16, mask.NonZeroCountOf(a));
        Assert.AreEqual(5.0 / 21, mask.SparsityOf(a), 1e-15);
        Assert.AreEqual(0, mask.PrunedCountOf(arena["a.bias"]));
        Assert.AreEqual(arena.ParameterCount - 5, mask.NonZeroCount);
        Assert.AreEqual(5.0 / 27, mask.PrunableSparsity, 1e-15);
        Assert.AreEqual(5.0 / arena.ParameterCount, mask.OverallSparsity, 1e-15);

        var report = mask.Report().ToDictionary(layer => layer.Name);
        Assert.AreEqual(arena.Parameters.Count, report.Count);
        Assert.AreEqual(5.0 / 21, report["a.weight"].Sparsity, 1e-15);
        Assert.IsTrue(report["a.weight"].IsPrunable);
        Assert.IsFalse(report["wte.weight"].IsPrunable);
        Assert.AreEqual(0, report["wte.weight"].Sparsity);
    }

    [TestMethod]
    public void MisuseThrowsNamingTheArgument()
    {
        var arena = SparsityTestArenas.AllRoles();
        var mask = new PruningMask(arena);
        Assert.AreEqual("slice", Assert.ThrowsExactly<ArgumentException>(() => mask.Prune(arena["a.bias"], [0])).ParamName);
        Assert.AreEqual("indices", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => mask.Prune(arena["b.weight"], [6])).ParamName);
        Assert.AreEqual("target", Assert.ThrowsExactly<ArgumentException>(() => mask.ApplyTo(new float[arena.BufferLength - 1])).ParamName);
        var other = SparsityTestArenas.AllRoles();
        Assert.AreEqual("slice", Assert.ThrowsExactly<ArgumentException>(() => mask.PrunedCountOf(other["a.weight"])).ParamName);
    }

    [TestMethod]
    public void StreamRoundTripRestoresTheMask()
    {
        var arena = SparsityTestArenas.AllRoles();
        var mask = PrunedRandomly(arena, seed: 4);
        using var stream = new MemoryStream();
        mask.Write(stream);

        stream.Position = 0;
        var read = PruningMask.Read(stream, arena);
        AssertSameMask(mask, read);

        stream.Position = 0;
        var into = new PruningMask(arena);
        using (var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true)) into.ReadInto(reader);
        AssertSameMask(mask, into);
    }

    [TestMethod]
    public void TensorRoundTripRestoresTheMask()
    {
        var arena = SparsityTestArenas.AllRoles();
        var mask = PrunedRandomly(arena, seed: 9);
        var tensors = mask.ToTensors();
        CollectionAssert.AreEquivalent(new[] { "mask.a.weight", "mask.b.weight" }, tensors.Keys.ToArray());
        Assert.AreEqual(21, tensors["mask.a.weight"].Length);

        var withModelTensors = tensors.ToDictionary(pair => pair.Key, pair => pair.Value);
        withModelTensors["a.weight"] = new float[21]; // a model file's own tensors are ignored
        AssertSameMask(mask, PruningMask.FromTensors(withModelTensors, arena));
    }

    [TestMethod]
    public void LoadingIntoTheWrongArenaOrCorruptDataFails()
    {
        var arena = SparsityTestArenas.AllRoles();
        var mask = PrunedRandomly(arena, seed: 2);
        using var stream = new MemoryStream();
        mask.Write(stream);
        var bytes = stream.ToArray();

        var otherLayout = SparsityTestArenas.OneLayer(3, 7);
        Assert.ThrowsExactly<InvalidDataException>(() => PruningMask.Read(new MemoryStream(bytes), otherLayout));
        Assert.ThrowsExactly<InvalidDataException>(() => PruningMask.Read(new MemoryStream(bytes[..^2]), arena));
        var onlyA = new PruningMask(arena, slice => slice.Name == "a.weight");
        Assert.ThrowsExactly<InvalidDataException>(() => onlyA.ReadInto(new BinaryReader(new MemoryStream(bytes))));

        var tensors = mask.ToTensors().ToDictionary(pair => pair.Key, pair => pair.Value.ToArray());
        tensors["mask.a.weight"][3] = 0.5f;
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => PruningMask.FromTensors(tensors, arena)).Message, "index 3");
        Assert.ThrowsExactly<ArgumentException>(() => PruningMask.FromTensors(new Dictionary<string, float[]> { ["mask.nope"] = [1f] }, arena));
    }

    [TestMethod]
    public void VersionCountsOnlyChanges()
    {
        var arena = SparsityTestArenas.AllRoles();
        var mask = new PruningMask(arena);
        var a = arena["a.weight"];
        Assert.AreEqual(0, mask.Version);
        mask.Prune(a, [1, 2]);
        Assert.AreEqual(1, mask.Version, "a prune that prunes something is a change");
        mask.Prune(a, [2]);
        Assert.AreEqual(1, mask.Version, "pruning a pruned entry again is not");
        mask.CopyFrom(new PruningMask(arena));
        Assert.AreEqual(2, mask.Version, "restoring a mask is a change (it may un-prune)");
    }

    private static PruningMask PrunedRandomly(ParameterArena arena, int seed)
    {
        var mask = new PruningMask(arena);
        var random = new Random(seed);
        foreach (var slice in mask.PrunableSlices)
            mask.Prune(slice, Enumerable.Range(0, slice.Length).Where(_ => random.NextDouble() < 0.4).ToArray());
        Assert.IsTrue(mask.PrunedCount > 0);
        return mask;
    }

    private static void AssertSameMask(PruningMask expected, PruningMask actual)
    {
        CollectionAssert.AreEqual(expected.PrunableSlices.Select(slice => slice.Name).ToArray(), actual.PrunableSlices.Select(slice => slice.Name).ToArray());
        CollectionAssert.AreEqual(expected.Buffer.ToArray(), actual.Buffer.ToArray());
        Assert.AreEqual(expected.PrunedCount, actual.PrunedCount);
        foreach (var slice in expected.PrunableSlices) Assert.AreEqual(expected.PrunedCountOf(slice), actual.PrunedCountOf(slice), slice.Name);
    }
}
