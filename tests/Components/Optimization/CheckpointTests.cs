using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Optimization;

/// <summary>Loading a checkpoint that does not fit throws <see cref="InvalidDataException"/> saying what differs.</summary>
[TestClass]
public sealed class CheckpointTests
{
    [TestMethod]
    public void AStateOfAnotherChainIsRejectedNamingBothKinds()
    {
        var (arena, _, _) = TransformTests.MakeArena([2, 3], 3);
        var saved = Save(new GradientTransformOptimizer(new Chain(new ScaleByLearningRate(0.1), new ScaleByAdam()), arena));
        var signum = new GradientTransformOptimizer(new Chain(new ScaleByLearningRate(0.1), new ScaleByMomentum()), arena);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => Load(signum, saved));

        StringAssert.Contains(error.Message, "Chain[1]");
        StringAssert.Contains(error.Message, "'ScaleByAdam'");
        StringAssert.Contains(error.Message, "'ScaleByMomentum'");
        Assert.AreEqual(0L, signum.StepCount, "a failed load changes nothing");
    }

    [TestMethod]
    public void AChainOfAnotherLengthIsRejected()
    {
        var (arena, _, _) = TransformTests.MakeArena([2, 3], 3);
        var saved = Save(new GradientTransformOptimizer(Optimizers.AdamW(0.1), arena));
        var clipped = new GradientTransformOptimizer(Optimizers.AdamW(new AdamWOptions(0.1) { ClipNorm = 1 }), arena);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => Load(clipped, saved));

        StringAssert.Contains(error.Message, "'Chain' has 3 nested states in the checkpoint but 4");
    }

    [TestMethod]
    public void AnArenaOfAnotherShapeIsRejectedNamingTheParameter()
    {
        var (arena, _, _) = TransformTests.MakeArena([2, 3], 3);
        var (other, _, _) = TransformTests.MakeArena([2, 4], 3);
        var saved = Save(new GradientTransformOptimizer(Optimizers.AdamW(0.1), arena));

        var error = Assert.ThrowsExactly<InvalidDataException>(() => Load(new GradientTransformOptimizer(Optimizers.AdamW(0.1), other), saved));

        StringAssert.Contains(error.Message, "'layer.weight' [2, 3] in the checkpoint but 'layer.weight' [2, 4] in this arena");
    }

    [TestMethod]
    public void AnArenaWithAnotherParameterCountIsRejected()
    {
        var (arena, _, _) = TransformTests.MakeArena([2, 3], 3);
        var builder = new ParameterArenaBuilder();
        builder.Add("layer.weight", ParameterRole.LinearWeight, 2, 3);
        var saved = Save(new GradientTransformOptimizer(Optimizers.Focus(0.1), arena));

        var error = Assert.ThrowsExactly<InvalidDataException>(() => Load(new GradientTransformOptimizer(Optimizers.Focus(0.1), builder.Build()), saved));

        StringAssert.Contains(error.Message, "arena of 2 parameters; this one has 1");
    }

    [TestMethod]
    public void GarbageAndTruncatedCheckpointsAreRejected()
    {
        var (arena, _, _) = TransformTests.MakeArena([2, 3], 3);
        var optimizer = new GradientTransformOptimizer(Optimizers.Focus(0.1), arena);
        var saved = Save(optimizer);

        Assert.ThrowsExactly<InvalidDataException>(() => Load(optimizer, [1, 2, 3, 4, 5]));
        var truncated = Assert.ThrowsExactly<InvalidDataException>(() => Load(optimizer, saved[..(saved.Length - 8)]));
        StringAssert.Contains(truncated.Message, "ParameterAverage");
    }

    [TestMethod]
    public void AStepOnAnotherArenaIsRejected()
    {
        var (arena, _, _) = TransformTests.MakeArena([2, 3], 3);
        var (other, _, _) = TransformTests.MakeArena([2, 3], 3);
        var optimizer = new GradientTransformOptimizer(Optimizers.Sgd(0.1), arena);

        Assert.ThrowsExactly<ArgumentException>(() => optimizer.Step(other));
    }

    private static byte[] Save(IOptimizer optimizer)
    {
        var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream)) optimizer.SaveState(writer);
        return stream.ToArray();
    }

    private static void Load(IOptimizer optimizer, byte[] checkpoint)
    {
        using var reader = new BinaryReader(new MemoryStream(checkpoint));
        optimizer.LoadState(reader);
    }
}
