using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Backends;
using Pipelines.Components.Models;
using Pipelines.Components.TorchSharp.Backends;
using Pipelines.Components.TorchSharp.Tests.Support;
using Pipelines.Pretraining;

namespace Pipelines.Components.TorchSharp.Tests.Estimators;

/// <summary>The pre-training estimator with <c>Backend = TorchSharp</c>: it fits, saves as named tensors and loads back onto the managed engine.</summary>
[TestClass]
public sealed class CausalLanguageModelOnTorchSharpTests
{
    private const double Relative = 1e-4;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void FitsOnTorchSharpAndScoresTheSameAfterLoadingOntoTheManagedEngine()
    {
        var context = new MLContext(seed: 1);
        var data = TinyCorpus.Rows(context);
        var options = TinyCorpus.Options(steps: 8) with { Backend = new TorchSharpBackend(TorchTestDevice.Cpu) };

        var fitted = context.Pretraining().CausalLanguageModel(options).Fit(data);
        Assert.IsInstanceOfType<TorchLanguageModel>(fitted.Model);
        Assert.HasCount(8, fitted.TrainingHistory);
        var path = Path.Combine(TestContext.TestRunResultsDirectory ?? Path.GetTempPath(), $"torchsharp-{Guid.NewGuid():N}.zip");
        try
        {
            context.Model.Save(fitted, data.Schema, path);
            var loaded = (CausalLanguageModelTransformer)new MLContext(seed: 2).Model.Load(path, out _);
            Assert.IsInstanceOfType<ManagedLanguageModel>(loaded.Model);

            var expected = Losses(context, fitted, data);
            var actual = Losses(context, loaded, data);
            Assert.HasCount(40, actual, "one loss per document");
            for (var row = 0; row < actual.Length; row++)
                Assert.AreEqual(expected[row], actual[row], Relative * expected[row], $"loss of row {row}");

            var managedFromSameWeights = context.Pretraining().CausalLanguageModel(options with { Backend = null }).Fit(data);
            Assert.AreEqual(managedFromSameWeights.TrainingHistory[^1].TrainingLoss, fitted.TrainingHistory[^1].TrainingLoss,
                Relative * fitted.TrainingHistory[^1].TrainingLoss, "the managed backend's run of the same options ends at the same loss");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ACancelledFitOnTorchSharpResumesFromItsCheckpointBitIdentically()
    {
        var context = new MLContext(seed: 1);
        var data = TinyCorpus.Rows(context);
        var path = Path.Combine(TestContext.TestRunResultsDirectory ?? Path.GetTempPath(), $"torchsharp-{Guid.NewGuid():N}.ckpt");
        var options = TinyCorpus.Options(steps: 8) with { Backend = new TorchSharpBackend(TorchTestDevice.Cpu) };
        try
        {
            var uninterrupted = context.Pretraining().CausalLanguageModel(options).Fit(data);
            using var cancellation = new CancellationTokenSource();
            var stopAt3 = new StopAt(3, cancellation);
            Assert.ThrowsExactly<OperationCanceledException>(() => context.Pretraining().CausalLanguageModel(options with
            {
                CheckpointInterval = 100, CheckpointPath = path, Progress = stopAt3, CancellationToken = cancellation.Token,
            }).Fit(data));
            var resumed = context.Pretraining().CausalLanguageModel(options with { ResumeFrom = path }).Fit(data);

            CollectionAssert.AreEqual(uninterrupted.TrainingHistory.ToArray(), resumed.TrainingHistory.ToArray());
            using var expected = new MemoryStream();
            using var actual = new MemoryStream();
            uninterrupted.Model.SaveSafeTensors(expected);
            resumed.Model.SaveSafeTensors(actual);
            CollectionAssert.AreEqual(expected.ToArray(), actual.ToArray(), "weights, bit for bit");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class StopAt(long step, CancellationTokenSource cancellation) : IProgress<Pipelines.Components.Training.TrainingProgress>
    {
        public void Report(Pipelines.Components.Training.TrainingProgress value)
        {
            if (value.Step == step) cancellation.Cancel();
        }
    }

    private static float[] Losses(MLContext context, ITransformer model, IDataView data) =>
        model.Transform(data).GetColumn<float>("Loss").ToArray();
}
