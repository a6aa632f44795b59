using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using Pipelines.Components.TorchSharp.Tests.Support;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Tests.Serialization;

/// <summary>Models cross the backend boundary as named tensors: arena to module and back, and through safetensors files, bit for bit.</summary>
[TestClass]
public sealed class TorchParametersTests
{
    private static readonly TransformerConfig Tiny = new(layerCount: 2, headCount: 2, channels: 8, contextLength: 6, vocabularySize: 11);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void GptRoundTripsThroughTheModuleBitForBit()
    {
        var source = GptModel.Create(Tiny, seed: 5, Parallelism.Sequential);
        ManagedModels.Randomize(source.Parameters, seed: 6);
        using var module = new TorchGptModel(Tiny, TorchTestDevice.Cpu);
        module.LoadFrom(source.Parameters);
        var target = new GptModel(Tiny, Parallelism.Sequential);
        module.StoreValuesTo(target.Parameters);

        CollectionAssert.AreEqual(source.Parameters.Values.ToArray(), target.Parameters.Values.ToArray());
        CollectionAssert.AreEqual(source.Parameters.Parameters.Select(slice => slice.Name).ToArray(), module.named_parameters().Select(pair => pair.name).ToArray(),
            "The module declares its parameters in the arena's order.");
    }

    [TestMethod]
    public void EncoderRoundTripsThroughSafeTensorFilesBothWays()
    {
        var source = EncoderClassifier.Create(Tiny, classCount: 3, seed: 7, Parallelism.Sequential);
        ManagedModels.Randomize(source.Parameters, seed: 8);
        var directory = Directory.CreateTempSubdirectory("torch-parameters-").FullName;
        try
        {
            var managedFile = Path.Combine(directory, "managed.safetensors");
            source.Parameters.SaveSafeTensors(managedFile);
            using var module = new TorchEncoderClassifier(Tiny, classCount: 3, TorchTestDevice.Cpu);
            module.LoadSafeTensors(managedFile);

            var torchFile = Path.Combine(directory, "torch.safetensors");
            module.SaveSafeTensors(torchFile, new Dictionary<string, string> { ["backend"] = "TorchSharp" });
            var target = new EncoderClassifier(Tiny, classCount: 3, Parallelism.Sequential);
            var metadata = target.Parameters.LoadSafeTensors(torchFile);

            Assert.AreEqual("TorchSharp", metadata["backend"]);
            CollectionAssert.AreEqual(source.Parameters.Values.ToArray(), target.Parameters.Values.ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void GradientsReachTheArenaByName()
    {
        var managed = GptModel.Create(Tiny, seed: 9, Parallelism.Sequential);
        using var scope = NewDisposeScope();
        using var module = new TorchGptModel(Tiny, TorchTestDevice.Cpu);
        module.LoadFrom(managed.Parameters);
        int[] tokens = [1, 2, 3, 4, 5, 6];
        var logits = module.forward(TorchTestDevice.Int64Tensor(tokens, 1, 6));
        TorchGptModel.Loss(logits, TorchTestDevice.Int64Tensor([2, 3, 4, 5, 6, 7], 1, 6)).backward();
        module.StoreGradientsTo(managed.Parameters);

        var expected = TorchParameters.ToSingleArray(module.named_parameters().Single(pair => pair.name == "blocks.1.fc.weight").parameter.grad!);
        CollectionAssert.AreEqual(expected, managed.Parameters.GradientsOf(managed.Parameters["blocks.1.fc.weight"]).ToArray());
    }

    [TestMethod]
    public void MismatchedModelsAreRefusedWithEveryDifferenceNamed()
    {
        var encoder = new EncoderClassifier(Tiny, classCount: 3, Parallelism.Sequential);
        using var gpt = new TorchGptModel(Tiny, TorchTestDevice.Cpu);
        var extra = Assert.ThrowsExactly<ArgumentException>(() => gpt.LoadFrom(encoder.Parameters));
        StringAssert.Contains(extra.Message, "head.weight");
        Assert.AreEqual("arena", extra.ParamName);

        using var wider = new TorchGptModel(new TransformerConfig(layerCount: 2, headCount: 2, channels: 8, contextLength: 6, vocabularySize: 12), TorchTestDevice.Cpu);
        var file = new SafeTensorFile(gpt.ToSafeTensors().Tensors);
        var shape = Assert.ThrowsExactly<ArgumentException>(() => wider.LoadFrom(file));
        StringAssert.Contains(shape.Message, "'wte.weight' is F32 [11, 8], expected F32 [12, 8]");
    }

    [TestMethod]
    public void MalformedInputsNameTheParameter()
    {
        using var scope = NewDisposeScope();
        using var module = new TorchGptModel(Tiny, TorchTestDevice.Cpu);
        var tooLong = Assert.ThrowsExactly<ArgumentException>(() => module.forward(TorchTestDevice.Int64Tensor(new int[7], 1, 7)));
        Assert.AreEqual("tokens", tooLong.ParamName);
        StringAssert.Contains(tooLong.Message, "7 tokens");
        var flat = Assert.ThrowsExactly<ArgumentException>(() => module.forward(TorchTestDevice.Int64Tensor(new int[6], 6)));
        Assert.AreEqual("tokens", flat.ParamName);
    }
}
