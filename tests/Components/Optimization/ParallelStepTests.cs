using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Optimization;

/// <summary>
/// The optimizer step on several threads: every alias of the suite gives the same bits of weights and state on 1, 2 and 3
/// threads, on an arena large enough that the chunks cut through slices, and the one-thread bits are those the step gave
/// before it ran in chunks (pinned hashes, computed with the sequential code of commit 7395038).
/// </summary>
[TestClass]
public sealed class ParallelStepTests
{
    private const int Steps = 40;

    public static IEnumerable<object[]> Names => OptimizerCases.Names;

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void StepsGiveTheSameBitsOnAnyNumberOfThreads(string name)
    {
        var item = OptimizerCases.Named(name);
        var (sequentialValues, sequentialState) = Run(item, Parallelism.Sequential, freeze: false);
        foreach (var threads in new[] { 2, 3 })
        {
            var (values, state) = Run(item, new Parallelism(threads), freeze: false);
            CollectionAssert.AreEqual(sequentialValues, values, $"{name}: weights after {Steps} steps on {threads} threads");
            CollectionAssert.AreEqual(sequentialState, state, $"{name}: optimizer state after {Steps} steps on {threads} threads");
        }
    }

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void FrozenSlicesStayFrozenOnAnyNumberOfThreads(string name)
    {
        var item = OptimizerCases.Named(name);
        var (sequentialValues, sequentialState) = Run(item, Parallelism.Sequential, freeze: true);
        var (values, state) = Run(item, new Parallelism(3), freeze: true);

        CollectionAssert.AreEqual(sequentialValues, values, $"{name}: weights");
        CollectionAssert.AreEqual(sequentialState, state, $"{name}: optimizer state");
        var frozen = MakeArena();
        CollectionAssert.AreEqual(
            Bits(frozen.ValuesOf(frozen["frozen.weight"])),
            sequentialValues.AsSpan(frozen["frozen.weight"].Offset, frozen["frozen.weight"].Length).ToArray(),
            $"{name}: the frozen weight moved");
    }

    /// <summary>The sequential bits are those of the step before it ran in chunks (hashes printed by the old code).</summary>
    [TestMethod]
    [DataRow("Sgd", 4950813023025295392UL)]
    [DataRow("SgdMomentum", 3649884480797572344UL)]
    [DataRow("SgdNesterov", 5602640792673259470UL)]
    [DataRow("AdamW", 13702008375603292039UL)]
    [DataRow("AdamWClipped", 10295362699980528026UL)]
    [DataRow("Signum", 15578446458170508444UL)]
    [DataRow("FocusBefore", 16060656816153885713UL)]
    [DataRow("FocusAfter", 6589653595937306923UL)]
    [DataRow("FocusPlain", 17447539086038194869UL)]
    public void SequentialBitsAreUnchanged(string name, ulong expectedHash)
    {
        var (values, state) = Run(OptimizerCases.Named(name), Parallelism.Sequential, freeze: false);
        var hash = Fnv(values, state);
        Assert.AreEqual(expectedHash, hash, $"{name}: FNV-1a of weights and state after {Steps} steps");
    }

    [TestMethod]
    public void ZeroGradientsOnSeveralThreadsClearsEveryGradient()
    {
        var arena = MakeArena();
        arena.Gradients.Fill(1.5f);

        arena.ZeroGradients(new Parallelism(3));

        Assert.IsTrue(arena.Gradients.ToArray().All(gradient => BitConverter.SingleToInt32Bits(gradient) == 0));
    }

    /// <summary>
    /// An arena of 49,206 floats (three 16K chunks on three threads, cutting through the slices): a large and a
    /// middle matrix, vectors of odd lengths and a 1-element one.
    /// </summary>
    internal static ParameterArena MakeArena()
    {
        var builder = new ParameterArenaBuilder();
        builder.Add("embedding.weight", ParameterRole.LinearWeight, 310, 100);
        builder.Add("norm.weight", ParameterRole.LinearBias, 7);
        builder.Add("frozen.weight", ParameterRole.LinearWeight, 40, 50);
        builder.Add("block.weight", ParameterRole.LinearWeight, 181, 89);
        builder.Add("block.bias", ParameterRole.LinearBias, 89);
        builder.Add("scalar", ParameterRole.LinearBias, 1);
        var arena = builder.Build();
        var random = new Random(11);
        foreach (var slice in arena.Parameters)
        {
            foreach (ref var value in arena.ValuesOf(slice)) value = (float)(random.NextDouble() - 0.5);
        }

        return arena;
    }

    /// <summary>40 steps of the alias at a constant rate on gradients <c>theta/2 + noise</c>; returns the bits of the weights and the saved state.</summary>
    private static (int[] Values, byte[] State) Run(OptimizerCase item, Parallelism parallelism, bool freeze)
    {
        var arena = MakeArena();
        var transform = item.Make(new ConstantSchedule(0.01));
        if (freeze) transform = new Chain(transform, new Freeze(slice => slice.Name == "frozen.weight"));
        var optimizer = new GradientTransformOptimizer(transform, arena, parallelism);
        for (var step = 0; step < Steps; step++)
        {
            arena.ZeroGradients(parallelism);
            var random = new Random(1000 + step);
            foreach (var slice in arena.Parameters)
            {
                var values = arena.ValuesOf(slice);
                var gradients = arena.GradientsOf(slice);
                for (var index = 0; index < values.Length; index++) gradients[index] = (float)(values[index] * 0.5 + (random.NextDouble() - 0.5));
            }

            optimizer.Step(arena);
        }

        var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream)) optimizer.SaveState(writer);
        return (Bits(arena.Values), stream.ToArray());
    }

    private static int[] Bits(ReadOnlySpan<float> values)
    {
        var bits = new int[values.Length];
        for (var index = 0; index < values.Length; index++) bits[index] = BitConverter.SingleToInt32Bits(values[index]);
        return bits;
    }

    /// <summary>FNV-1a (64-bit) over the weights' bits (little-endian) and then the state's bytes.</summary>
    private static ulong Fnv(int[] values, byte[] state)
    {
        var hash = 14695981039346656037UL;
        foreach (var value in values)
        {
            for (var shift = 0; shift < 32; shift += 8) hash = (hash ^ (byte)(value >> shift)) * 1099511628211UL;
        }

        foreach (var value in state) hash = (hash ^ value) * 1099511628211UL;
        return hash;
    }
}
