using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;
using Pipelines.Components.TorchSharp.Optimization;
using Pipelines.Components.TorchSharp.Tests.Support;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Tests.Optimization;

/// <summary>
/// TorchAdamW against the managed AdamW chain: 20 steps of a small GPT from the same weights give the same weights
/// within 1e-4 relative (floor: 1% of each tensor's largest magnitude).
/// </summary>
[TestClass]
public sealed class TorchAdamWTests
{
    private const int Steps = 20;
    private const int BatchSize = 2;
    private const int TokenCount = 8;
    private static readonly TransformerConfig Small = new(layerCount: 2, headCount: 2, channels: 16, contextLength: 8, vocabularySize: 23);

    public TestContext TestContext { get; set; } = null!;

    /// <summary>Both optimizers see the managed engine's gradients each step, so only the update formula is compared.</summary>
    [TestMethod]
    [DataRow(null)]
    [DataRow(0.05)]
    public void TwentyStepsOnTheSameGradientsMatchTheManagedChain(double? clipNorm)
    {
        var options = new AdamWOptions(3e-2) { WeightDecay = 0.1, ClipNorm = clipNorm };
        var managed = GptModel.Create(Small, seed: 31, Parallelism.Sequential);
        using var module = new TorchGptModel(Small, TorchTestDevice.Cpu);
        module.LoadFrom(managed.Parameters);
        var managedOptimizer = new GradientTransformOptimizer(Optimizers.AdamW(options), managed.Parameters);
        using var torchOptimizer = new TorchAdamW(module, managed.Parameters, options);

        for (var step = 0; step < Steps; step++)
        {
            managed.Parameters.ZeroGradients();
            managed.Forward(Batch(step, seed: 1), Batch(step, seed: 2), BatchSize, TokenCount);
            managed.Backward();
            SetGradients(module, managed.Parameters);
            managedOptimizer.Step(managed.Parameters);
            torchOptimizer.Step();
        }

        if (clipNorm is not null) Assert.IsTrue(torchOptimizer.LastNorm > clipNorm, $"The clip must act: last norm {torchOptimizer.LastNorm}.");
        CompareWeights(module, managed.Parameters, $"AdamW weights after {Steps} steps, clip {clipNorm?.ToString() ?? "none"}");
    }

    /// <summary>Each backend computes its own gradients: the whole training step, forward, backward and AdamW, agrees (normwise).</summary>
    [TestMethod]
    public void TwentyTrainingStepsMatchTheManagedEngine()
    {
        var options = new AdamWOptions(1e-2) { WeightDecay = 0.1 };
        var managed = GptModel.Create(Small, seed: 41, Parallelism.Sequential);
        using var module = new TorchGptModel(Small, TorchTestDevice.Cpu);
        module.LoadFrom(managed.Parameters);
        var managedOptimizer = new GradientTransformOptimizer(Optimizers.AdamW(options), managed.Parameters);
        using var torchOptimizer = new TorchAdamW(module, managed.Parameters, options);

        float managedLoss = 0, torchLoss = 0;
        for (var step = 0; step < Steps; step++)
        {
            var (inputs, targets) = (Batch(step, seed: 3), Batch(step, seed: 4));
            managed.Parameters.ZeroGradients();
            managedLoss = managed.Forward(inputs, targets, BatchSize, TokenCount);
            managed.Backward();
            managedOptimizer.Step(managed.Parameters);

            using var scope = NewDisposeScope();
            module.zero_grad();
            var loss = TorchGptModel.Loss(module.forward(TorchTestDevice.Int64Tensor(inputs, BatchSize, TokenCount)), TorchTestDevice.Int64Tensor(targets, BatchSize, TokenCount));
            loss.backward();
            torchOptimizer.Step();
            torchLoss = loss.item<float>();
        }

        TestContext.WriteLine($"last loss: managed {managedLoss:G8}, TorchSharp {torchLoss:G8}");
        Assert.AreEqual(managedLoss, torchLoss, 1e-5 * managedLoss);

        // Element by element the runs drift apart where a gradient is rounding noise: the key bias has an exactly zero
        // gradient (each query's softmax is invariant to a shift shared by all keys), and Adam scales any noise up to
        // steps of about lr. So this test compares each tensor normwise and leaves the key third of qkv.bias out.
        var comparison = new TensorComparison(TestContext, relative: 1e-4, floor: 1e-2);
        var channels = Small.Channels;
        foreach (var (name, parameter) in module.named_parameters())
        {
            var expected = managed.Parameters.ValuesOf(managed.Parameters[name]).ToArray();
            var actual = TorchParameters.ToSingleArray(parameter);
            if (name.EndsWith("qkv.bias", StringComparison.Ordinal))
            {
                comparison.CompareNormwise(name + " (queries)", expected[..channels], actual[..channels]);
                comparison.CompareNormwise(name + " (values)", expected[(2 * channels)..], actual[(2 * channels)..]);
            }
            else
            {
                comparison.CompareNormwise(name, expected, actual);
            }
        }

        comparison.Summarize($"weights after {Steps} training steps on each backend");
    }

    private static int[] Batch(int step, ulong seed) => ManagedModels.Tokens(BatchSize * TokenCount, Small.VocabularySize, seed * 1000 + (ulong)step);

    /// <summary>Gives every parameter the arena's gradient exactly: the gradient of Σ θ·G with respect to θ is G.</summary>
    private static void SetGradients(nn.Module module, ParameterArena arena)
    {
        using var scope = NewDisposeScope();
        module.zero_grad();
        var total = module.named_parameters()
            .Select(pair => (pair.parameter * tensor(arena.GradientsOf(arena[pair.name]).ToArray(), pair.parameter.shape, device: pair.parameter.device)).sum())
            .Aggregate((sum, next) => sum + next);
        total.backward();
    }

    private void CompareWeights(nn.Module module, ParameterArena arena, string what)
    {
        var comparison = new TensorComparison(TestContext, relative: 1e-4, floor: 1e-2);
        foreach (var (name, parameter) in module.named_parameters())
            comparison.Compare(name, arena.ValuesOf(arena[name]), TorchParameters.ToSingleArray(parameter));
        comparison.Summarize(what);
    }
}
