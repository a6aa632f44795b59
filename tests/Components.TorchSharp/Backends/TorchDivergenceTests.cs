using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.TorchSharp.Backends;
using Pipelines.Components.TorchSharp.Optimization;
using Pipelines.Components.TorchSharp.Tests.Support;
using Pipelines.Components.Training;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Tests.Backends;

/// <summary>The device training state stops a diverging run before the update, naming the step, as the managed engine does.</summary>
[TestClass]
public sealed class TorchDivergenceTests
{
    private static readonly TransformerConfig Config = new(layerCount: 1, headCount: 2, channels: 8, contextLength: 4, vocabularySize: 11);

    [TestMethod]
    [DataRow(float.NaN)]
    [DataRow(float.PositiveInfinity)]
    [DataRow(1e30f)] // finite, but its square overflows float32: the managed check (a float sum of squares) calls this diverged too
    public void ANonFiniteGradientStopsTheUpdateNamingTheStep(float poison)
    {
        var layout = new GptModel(Config, Parallelism.Sequential).Parameters;
        using var module = new TorchGptModel(Config, TorchTestDevice.Cpu);
        module.LoadFrom(GptModel.Create(Config, seed: 3, Parallelism.Sequential).Parameters);
        using var optimizer = new TorchOptimizer(module, layout, Optimizers.AdamW(1e-2));
        using var state = new TorchTrainingState(module, layout, optimizer, []);
        foreach (var parameter in module.parameters()) parameter.grad = ones_like(parameter);
        state.Update(0); // finite gradients: the update runs
        Assert.AreEqual(1, optimizer.StepCount);

        var before = TorchParameters.ToSingleArray(module.parameters().First());
        using (no_grad()) module.parameters().Last().grad![0].fill_(poison);
        var diverged = Assert.ThrowsExactly<TrainingDivergedException>(() => state.Update(1));
        StringAssert.Contains(diverged.Message, "at step 1: gradients");
        Assert.AreEqual(1, optimizer.StepCount, "no update after the check failed");
        CollectionAssert.AreEqual(before, TorchParameters.ToSingleArray(module.parameters().First()), "the weights are unchanged");
    }
}
