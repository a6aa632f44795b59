using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.TorchSharp.Tests.Support;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Tests.Models;

/// <summary>
/// The TorchSharp modules against the managed engine: from the same weights and batch, logits, loss and every
/// parameter gradient agree within 1e-4 relative (floor: 1% of each tensor's largest magnitude).
/// </summary>
[TestClass]
public sealed class BackendEquivalenceTests
{
    private const double Relative = 1e-4;
    private const double Floor = 1e-2;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void GptMatchesManagedEngine()
    {
        var config = new TransformerConfig(layerCount: 2, headCount: 4, channels: 32, contextLength: 16, vocabularySize: 50);
        const int batchSize = 3, tokenCount = 16;
        var managed = new GptModel(config, new Parallelism(2));
        ManagedModels.Randomize(managed.Parameters, seed: 11);
        var tokens = ManagedModels.Tokens(batchSize * tokenCount, config.VocabularySize, seed: 12);
        var targets = ManagedModels.Tokens(batchSize * tokenCount, config.VocabularySize, seed: 13);
        targets[5] = -1; // one ignored position
        managed.Parameters.ZeroGradients();
        var managedLoss = managed.Forward(tokens, targets, batchSize, tokenCount);
        managed.Backward();

        using var scope = NewDisposeScope();
        using var module = new TorchGptModel(config, TorchTestDevice.Cpu);
        module.LoadFrom(managed.Parameters);
        var logits = module.forward(TorchTestDevice.Int64Tensor(tokens, batchSize, tokenCount));
        var loss = TorchGptModel.Loss(logits, TorchTestDevice.Int64Tensor(targets, batchSize, tokenCount));
        loss.backward();

        var comparison = new TensorComparison(TestContext, Relative, Floor);
        comparison.Compare("logits", managed.Logits, TorchParameters.ToSingleArray(logits));
        comparison.Compare("loss", [managedLoss], TorchParameters.ToSingleArray(loss));
        CompareGradients(comparison, module, managed.Parameters);
        comparison.Summarize("GPT, TorchSharp against the managed engine");
    }

    [TestMethod]
    public void EncoderWithPaddingMatchesManagedEngine()
    {
        var config = new TransformerConfig(layerCount: 2, headCount: 4, channels: 32, contextLength: 12, vocabularySize: 40);
        const int batchSize = 4, tokenCount = 12, classCount = 3;
        int[] lengths = [12, 7, 1, 10];
        var managed = new EncoderClassifier(config, classCount, new Parallelism(2));
        ManagedModels.Randomize(managed.Parameters, seed: 21);
        var tokens = ManagedModels.Tokens(batchSize * tokenCount, config.VocabularySize, seed: 22);
        var mask = new byte[batchSize * tokenCount];
        for (var sequence = 0; sequence < batchSize; sequence++)
            for (var token = 0; token < lengths[sequence]; token++) mask[sequence * tokenCount + token] = 1;
        int[] labels = [2, 0, 1, 2];
        managed.Parameters.ZeroGradients();
        var managedLoss = managed.Forward(tokens, mask, labels, batchSize, tokenCount);
        managed.Backward();

        using var scope = NewDisposeScope();
        using var module = new TorchEncoderClassifier(config, classCount, TorchTestDevice.Cpu);
        module.LoadFrom(managed.Parameters);
        var keyMask = TorchTestDevice.Int64Tensor(mask.Select(value => (int)value).ToArray(), batchSize, tokenCount);
        var logits = module.forward(TorchTestDevice.Int64Tensor(tokens, batchSize, tokenCount), keyMask);
        var loss = TorchEncoderClassifier.Loss(logits, TorchTestDevice.Int64Tensor(labels, batchSize));
        loss.backward();

        var comparison = new TensorComparison(TestContext, Relative, Floor);
        comparison.Compare("logits", managed.Logits, TorchParameters.ToSingleArray(logits));
        comparison.Compare("loss", [managedLoss], TorchParameters.ToSingleArray(loss));
        CompareGradients(comparison, module, managed.Parameters);
        comparison.Summarize("encoder with padding, TorchSharp against the managed engine");
    }

    private static void CompareGradients(TensorComparison comparison, nn.Module module, Tensors.ParameterArena arena)
    {
        var gradients = module.named_parameters().ToDictionary(pair => pair.name, pair => pair.parameter.grad);
        Assert.AreEqual(arena.Parameters.Count, gradients.Count, "The module and the arena have different parameter counts.");
        foreach (var parameter in arena.Parameters)
        {
            var gradient = gradients[parameter.Name];
            Assert.IsNotNull(gradient, $"No gradient reached {parameter.Name}.");
            comparison.Compare("grad." + parameter.Name, arena.GradientsOf(parameter), TorchParameters.ToSingleArray(gradient));
        }
    }
}
