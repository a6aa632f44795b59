using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Serialization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Serialization;

[TestClass]
public sealed class ParameterArenaSafeTensorsTests
{
    private static ParameterArena Arena(int hidden = 3, bool withBias = true, string extraName = "")
    {
        var builder = new ParameterArenaBuilder();
        builder.Add("embedding.weight", ParameterRole.TokenEmbedding, 7, hidden);
        builder.Add("linear.weight", ParameterRole.LinearWeight, 5, hidden);
        if (withBias) builder.Add("linear.bias", ParameterRole.LinearBias, 5);
        if (extraName.Length > 0) builder.Add(extraName, ParameterRole.NormScale, 1);
        return builder.Build();
    }

    private static void Fill(ParameterArena arena, int seed)
    {
        var random = new Random(seed);
        foreach (var parameter in arena.Parameters)
        {
            foreach (ref var value in arena.ValuesOf(parameter)) value = (float)random.NextDouble() - 0.5f;
        }
    }

    [TestMethod]
    public void SavesAndLoadsEveryParameterByName()
    {
        var source = Arena();
        Fill(source, seed: 1);
        using var stream = new MemoryStream();
        source.SaveSafeTensors(stream, new Dictionary<string, string> { ["step"] = "12" });

        stream.Position = 0;
        var file = SafeTensors.Read(stream);
        CollectionAssert.AreEqual(new long[] { 7, 3 }, file["embedding.weight"].Shape.ToArray());
        CollectionAssert.AreEqual(source.ValuesOf(source["linear.bias"]).ToArray(), file["linear.bias"].ToSingleArray());

        var target = Arena();
        stream.Position = 0;
        var metadata = target.LoadSafeTensors(stream);
        Assert.AreEqual("12", metadata["step"]);
        CollectionAssert.AreEqual(source.Values.ToArray(), target.Values.ToArray());
    }

    [TestMethod]
    public void NamesEveryMismatchAndLeavesTheArenaUnchanged()
    {
        var source = Arena(extraName: "final.norm");
        Fill(source, seed: 2);
        using var stream = new MemoryStream();
        source.SaveSafeTensors(stream);

        var target = Arena(hidden: 4, withBias: false, extraName: "other.norm");
        Fill(target, seed: 3);
        var before = target.Values.ToArray();
        stream.Position = 0;
        var message = Assert.ThrowsExactly<InvalidDataException>(() => target.LoadSafeTensors(stream)).Message;
        StringAssert.Contains(message, "tensor 'embedding.weight' has shape [7, 3], expected [7, 4]");
        StringAssert.Contains(message, "missing tensor 'other.norm'");
        StringAssert.Contains(message, "extra tensor 'linear.bias'");
        StringAssert.Contains(message, "extra tensor 'final.norm'");
        CollectionAssert.AreEqual(before, target.Values.ToArray());
    }

    [TestMethod]
    public void RejectsTensorsOfAnotherType()
    {
        var builder = new ParameterArenaBuilder();
        builder.Add("w", ParameterRole.LinearBias, 2);
        var arena = builder.Build();
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, [SafeTensor.Create("w", [2], [1, 2])]);
        stream.Position = 0;
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => arena.LoadSafeTensors(stream)).Message, "tensor 'w' is I32, expected F32");
    }

    [TestMethod]
    public void SavesToAPath()
    {
        var arena = Arena();
        Fill(arena, seed: 4);
        var path = Path.Combine(Path.GetTempPath(), $"arena-{Guid.NewGuid():N}.safetensors");
        try
        {
            arena.SaveSafeTensors(path);
            var copy = Arena();
            copy.LoadSafeTensors(path);
            CollectionAssert.AreEqual(arena.Values.ToArray(), copy.Values.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
