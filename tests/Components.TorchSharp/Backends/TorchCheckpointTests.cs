using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Backends;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Serialization;
using Pipelines.Components.Sparsity;
using Pipelines.Components.TorchSharp.Backends;
using Pipelines.Components.TorchSharp.Tests.Support;
using Pipelines.Components.Training;

namespace Pipelines.Components.TorchSharp.Tests.Backends;

/// <summary>Training checkpoints on the TorchSharp backend: resumed runs continue bit-identically; other runs and broken files are refused.</summary>
[TestClass]
public sealed class TorchCheckpointTests
{
    private static readonly TransformerConfig Config = new(layerCount: 2, headCount: 2, channels: 16, contextLength: 8, vocabularySize: 29);
    private const int Steps = 12;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void ARunCancelledAtStep5AndResumedEndsBitIdenticalToAnUninterruptedOne()
    {
        var tokens = ManagedModels.Tokens(600, Config.VocabularySize, seed: 5);
        var path = TemporaryPath();
        try
        {
            var (uninterrupted, uninterruptedHook, uninterruptedResult) = Train(tokens, Options(), resumeFrom: null);

            using var cancellation = new CancellationTokenSource();
            var cancelling = Options() with { CheckpointInterval = 100, CheckpointPath = path };
            var stopAt5 = new StopAt(5, cancellation);
            Assert.ThrowsExactly<OperationCanceledException>(() => Train(tokens, cancelling, resumeFrom: null, stopAt5, cancellation.Token));
            Assert.IsTrue(File.Exists(path), "cancelling wrote a checkpoint first");

            var (resumed, resumedHook, resumedResult) = Train(tokens, Options(), resumeFrom: path);
            using (uninterrupted)
            using (resumed)
            {
                Assert.AreEqual(Steps, resumedResult.Steps);
                CollectionAssert.AreEqual(Bytes(uninterrupted), Bytes(resumed), "weights, bit for bit");
                CollectionAssert.AreEqual(uninterruptedResult.History.ToArray(), resumedResult.History.ToArray(), "history (losses, rates)");
                CollectionAssert.AreEqual(uninterruptedHook.Pruner.NonZeroCounts.ToArray(), resumedHook.Pruner.NonZeroCounts.ToArray(), "N(t)");
                CollectionAssert.AreEqual(uninterruptedHook.Mask.Buffer.ToArray(), resumedHook.Mask.Buffer.ToArray(), "mask");
                Assert.AreEqual(uninterruptedHook.AverageParameterCount(), resumedHook.AverageParameterCount(), 0.0, "Nbar");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void AResumeUnderAnotherRunIsRefusedNamingTheDifference()
    {
        var tokens = ManagedModels.Tokens(600, Config.VocabularySize, seed: 5);
        var path = TemporaryPath();
        try
        {
            Train(tokens, Options() with { Steps = 4, CheckpointInterval = 4, CheckpointPath = path }, resumeFrom: null).Model.Dispose();
            var changed = Assert.ThrowsExactly<RunChangedException>(() => Train(tokens, Options() with { BatchSize = 2 }, resumeFrom: path));
            StringAssert.Contains(changed.Message, "training.BatchSize");
            var otherData = Assert.ThrowsExactly<RunChangedException>(() => Train(ManagedModels.Tokens(600, Config.VocabularySize, seed: 6), Options(), resumeFrom: path));
            StringAssert.Contains(otherData.Message, "data.Sha256");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ATruncatedOrCorruptCheckpointIsRefusedAsInvalidData()
    {
        var tokens = ManagedModels.Tokens(600, Config.VocabularySize, seed: 5);
        var path = TemporaryPath();
        try
        {
            Train(tokens, Options() with { Steps = 4, CheckpointInterval = 4, CheckpointPath = path }, resumeFrom: null).Model.Dispose();
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);
            var truncated = Assert.ThrowsExactly<InvalidDataException>(() => Train(tokens, Options(), resumeFrom: path));
            StringAssert.Contains(truncated.Message, "truncated");

            var corrupt = (byte[])bytes.Clone();
            corrupt[3] ^= 0x5A;
            File.WriteAllBytes(path, corrupt);
            Assert.ThrowsExactly<InvalidDataException>(() => Train(tokens, Options(), resumeFrom: path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void AWsdsRunSavesItsDecayedModelsFromTheDeviceAndResumesWithItsPlan()
    {
        var tokens = ManagedModels.Tokens(600, Config.VocabularySize, seed: 5);
        var directory = Path.Combine(Path.GetTempPath(), $"torch-wsds-{Guid.NewGuid():N}");
        var path = TemporaryPath();
        try
        {
            var plan = new WsdsPlan(1e-2, [4, 8], 0.25);
            var options = Options() with { Steps = 8, CheckpointInterval = 4, CheckpointPath = path };
            using var torch = (TorchLanguageModel)new TorchSharpBackend(TorchTestDevice.Cpu).CreateLanguageModel(Config, seed: 3);
            var decayed = new DecayedCheckpointHook(plan, directory);
            var weightsAt4 = Array.Empty<byte>();
            var progress = new AtStep(4, () => weightsAt4 = Bytes(torch));
            torch.Train(new LanguageModelTrainingRun(tokens, null, Optimizers.AdamW(new AdamWOptions(plan)), options)
            {
                Hooks = [new ScheduleLayoutHook(plan), decayed],
                Progress = progress,
            });

            Assert.HasCount(2, decayed.SavedPaths);
            SafeTensorFile saved;
            using (var stream = File.OpenRead(decayed.PathFor(4))) saved = SafeTensors.Read(stream);
            Assert.AreEqual("4", saved.Metadata["pipelines.step"]);
            var layout = TorchPruningTests.Layout();
            layout.LoadSafeTensors(decayed.PathFor(4));
            CollectionAssert.AreEqual(weightsAt4, System.Runtime.InteropServices.MemoryMarshal.AsBytes(layout.Values).ToArray(), "the decayed model is the device's weights after step 4");

            using var other = new TorchSharpBackend(TorchTestDevice.Cpu).CreateLanguageModel(Config, seed: 3);
            var changedPlan = new WsdsPlan(1e-2, [4, 10], 0.25);
            var refused = Assert.ThrowsExactly<InvalidDataException>(() => other.Train(new LanguageModelTrainingRun(tokens, null, Optimizers.AdamW(new AdamWOptions(changedPlan)), Options() with { Steps = 10 })
            {
                Hooks = [new ScheduleLayoutHook(changedPlan), new DecayedCheckpointHook(changedPlan, directory)],
                ResumeFrom = path,
            }));
            StringAssert.Contains(refused.Message, "learning-rate plan");
        }
        finally
        {
            File.Delete(path);
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void AClassifierRunCancelledAtStep3AndResumedEndsBitIdenticalToAnUninterruptedOne()
    {
        var random = new Pipelines.Components.Compute.SeededRandom(8);
        var sequences = Enumerable.Range(0, 30).Select(example => ManagedModels.Tokens(2 + example % 7, Config.VocabularySize, seed: (ulong)example + 50)).ToArray();
        var labels = sequences.Select(sequence => sequence.Contains(3) ? 1 : random.NextInt32(2)).ToArray();
        var training = new LabeledSequences(sequences, labels);
        var options = new ClassifierTrainerOptions { BatchSize = 5, MaximumSequenceLength = 8, Steps = 6, EvaluationInterval = 0, Seed = 4 };
        var path = TemporaryPath();
        (IBackendClassifier Model, ClassifierTrainingResult Result) Train(ClassifierTrainerOptions trainer, string? resumeFrom, IProgress<TrainingProgress>? progress = null, CancellationToken token = default)
        {
            var model = new TorchSharpBackend(TorchTestDevice.Cpu).CreateClassifier(Config, classCount: 2, seed: 6);
            try
            {
                return (model, model.Train(new ClassifierTrainingRun(training, null, Optimizers.AdamW(3e-3, weightDecay: 0.1, clipNorm: 1.0), trainer)
                {
                    ResumeFrom = resumeFrom, Progress = progress, CancellationToken = token,
                }));
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }

        try
        {
            var (uninterrupted, expected) = Train(options, resumeFrom: null);
            using var cancellation = new CancellationTokenSource();
            Assert.ThrowsExactly<OperationCanceledException>(() => Train(options with { CheckpointInterval = 100, CheckpointPath = path }, null, new StopAt(3, cancellation), cancellation.Token));
            var (resumed, actual) = Train(options, resumeFrom: path);
            using (uninterrupted)
            using (resumed)
            {
                CollectionAssert.AreEqual(expected.History.ToArray(), actual.History.ToArray(), "history");
                Assert.AreEqual(3, actual.StepsThisRun);
                using var expectedWeights = new MemoryStream();
                using var actualWeights = new MemoryStream();
                uninterrupted.SaveSafeTensors(expectedWeights);
                resumed.SaveSafeTensors(actualWeights);
                CollectionAssert.AreEqual(expectedWeights.ToArray(), actualWeights.ToArray(), "weights, bit for bit");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    [DataRow("AdamW")]
    [DataRow("FOCUS")] // its schedule sits inside ScaleByFocus, not in a ScaleByLearningRate
    public void AScheduleHookWhosePlanIsNotTheOptimizersIsRefused(string optimizer)
    {
        var tokens = ManagedModels.Tokens(600, Config.VocabularySize, seed: 5);
        var plan = WarmupStableDecaySchedule.OpenEnded(1e-2, warmupSteps: 1, decaySteps: 2);
        var other = plan.StartDecayAt(5);
        var chain = optimizer == "FOCUS" ? Optimizers.Focus(new FocusOptions(other)) : Optimizers.AdamW(new AdamWOptions(other));
        using var torch = new TorchSharpBackend(TorchTestDevice.Cpu).CreateLanguageModel(Config, seed: 3);
        var refused = Assert.ThrowsExactly<InvalidOperationException>(() => torch.Train(new LanguageModelTrainingRun(tokens, null, chain, Options() with { Steps = 2 })
        {
            Hooks = [new ScheduleLayoutHook(plan)],
        }));
        StringAssert.Contains(refused.Message, "different plan");
    }

    private static LanguageModelTrainingOptions Options() => new() { BatchSize = 4, SequenceLength = 8, Steps = Steps, EvaluationInterval = 3, EvaluationBatches = 2, Seed = 9 };

    private static (TorchLanguageModel Model, PruningTrainingHook Hook, LanguageModelTrainingResult Result) Train(int[] tokens, LanguageModelTrainingOptions options, string? resumeFrom,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var model = (TorchLanguageModel)new TorchSharpBackend(TorchTestDevice.Cpu).CreateLanguageModel(Config, seed: 3);
        var hook = new PruningTrainingHook(TorchPruningTests.Layout(), TorchPruningTests.Plan(Steps));
        try
        {
            var result = model.Train(new LanguageModelTrainingRun(tokens, tokens[..200], TorchPruningTests.AdamW(), options)
            {
                Hooks = [hook],
                ResumeFrom = resumeFrom,
                Progress = progress,
                CancellationToken = cancellationToken,
            });
            return (model, hook, result);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static byte[] Bytes(TorchLanguageModel model)
    {
        var arena = TorchPruningTests.Layout();
        model.Module.StoreValuesTo(arena);
        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(arena.Values).ToArray();
    }

    private string TemporaryPath() => Path.Combine(TestContext.TestRunResultsDirectory ?? Path.GetTempPath(), $"torch-{Guid.NewGuid():N}.ckpt");

    private sealed class StopAt(long step, CancellationTokenSource cancellation) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Step == step) cancellation.Cancel();
        }
    }

    private sealed class AtStep(long step, Action action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Step == step) action();
        }
    }
}
