using Microsoft.ML;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Backends;
using Pipelines.Components.Models;
using Pipelines.Components.TorchSharp.Backends;
using Pipelines.Components.TorchSharp.Tests.Support;
using Pipelines.Pretraining;
using Pipelines.Sparsity;

namespace Pipelines.Components.TorchSharp.Tests.Estimators;

/// <summary>Sparse pre-training with <c>Backend = TorchSharp</c>: it prunes on the device with the managed run's masks, N(t) and Nbar, and saves and loads back.</summary>
[TestClass]
public sealed class SparsePretrainingOnTorchSharpTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void FitsOnTorchSharpWithTheManagedRunsMasksNonZeroCountsAndNbar()
    {
        var context = new MLContext(seed: 1);
        var data = TinyCorpus.Rows(context);
        var pretraining = TinyCorpus.Options(steps: 16);
        var options = new SparsePretrainingOptions(pretraining) { FinalSparsity = 0.5, PruningInterval = 2, Backend = new TorchSharpBackend(TorchTestDevice.Cpu) };

        var torch = context.Sparsity().SparsePretraining(options).Fit(data);
        var managed = context.Sparsity().SparsePretraining(options with { Backend = null }).Fit(data);

        Assert.IsInstanceOfType<TorchLanguageModel>(torch.LanguageModel.Model);
        Assert.IsInstanceOfType<ManagedLanguageModel>(managed.LanguageModel.Model);
        CollectionAssert.AreEqual(managed.NonZeroCounts.ToArray(), torch.NonZeroCounts.ToArray(), "N(t)");
        CollectionAssert.AreEqual(managed.Events.ToArray(), torch.Events.ToArray(), "pruning events");
        Assert.AreEqual(managed.Sparsity, torch.Sparsity, "final sparsity, N, Nbar");
        foreach (var (name, mask) in managed.MaskTensors()) CollectionAssert.AreEqual(mask, torch.MaskTensors()[name], name);
        Assert.IsLessThan(torch.Sparsity.ParameterCount, torch.Sparsity.FinalNonZeroCount, "weights were pruned");
        TestContext.WriteLine(torch.FormatReport());

        var path = Path.Combine(TestContext.TestRunResultsDirectory ?? Path.GetTempPath(), $"sparse-torch-{Guid.NewGuid():N}.zip");
        try
        {
            context.Model.Save(torch, data.Schema, path);
            var loaded = (SparsePretrainingTransformer)new MLContext(seed: 2).Model.Load(path, out _);
            Assert.AreEqual(torch.Sparsity, loaded.Sparsity);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void TwoDifferentBackendsInTheOptionsAreRefused()
    {
        var options = new SparsePretrainingOptions(new CausalLanguageModelOptions { Backend = new ManagedBackend(1) }) { Backend = new TorchSharpBackend(TorchTestDevice.Cpu) };
        var refused = Assert.ThrowsExactly<ArgumentException>(() => new MLContext(seed: 1).Sparsity().SparsePretraining(options));
        StringAssert.Contains(refused.Message, "Backend");
    }
}
