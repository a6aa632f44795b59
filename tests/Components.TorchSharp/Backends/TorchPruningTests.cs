using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Backends;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Tensors;
using Pipelines.Components.TorchSharp.Backends;
using Pipelines.Components.TorchSharp.Tests.Support;
using Pipelines.Components.Training;
using Pipelines.Components.TorchSharp.Optimization;

namespace Pipelines.Components.TorchSharp.Tests.Backends;

/// <summary>Gradual magnitude pruning on the TorchSharp backend: the same masks, N(t) and Nbar as the managed engine's run.</summary>
[TestClass]
public sealed class TorchPruningTests
{
    private static readonly TransformerConfig Config = new(layerCount: 2, headCount: 2, channels: 16, contextLength: 8, vocabularySize: 29);
    private const int Steps = 12;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void TheMasksAtEveryStepAndNbarEqualTheManagedRunsFromTheSameWeights()
    {
        var tokens = ManagedModels.Tokens(600, Config.VocabularySize, seed: 5);
        var options = new LanguageModelTrainingOptions { BatchSize = 4, SequenceLength = 8, Steps = Steps, EvaluationInterval = 0, Seed = 9 };

        using var managed = (ManagedLanguageModel)new ManagedBackend(1).CreateLanguageModel(Config, seed: 3);
        var managedHook = new PruningTrainingHook(managed.Parameters, Plan());
        var managedMasks = new MaskRecorder(managedHook);
        managed.Train(new LanguageModelTrainingRun(tokens, null, new Chain(AdamW(), managedHook.ApplyMask), options) { Hooks = [managedHook], Progress = managedMasks });

        using var torch = (TorchLanguageModel)new TorchSharpBackend(TorchTestDevice.Cpu).CreateLanguageModel(Config, seed: 3);
        var torchHook = new PruningTrainingHook(Layout(), Plan());
        var torchMasks = new MaskRecorder(torchHook);
        torch.Train(new LanguageModelTrainingRun(tokens, null, AdamW(), options) { Hooks = [torchHook], Progress = torchMasks });

        Assert.IsGreaterThanOrEqualTo(3, torchHook.Pruner.Events.Count(pruningEvent => pruningEvent.NewlyPruned > 0), "the schedule pruned at several steps");
        Assert.HasCount(Steps, torchMasks.Masks);
        for (var step = 0; step < Steps; step++)
            CollectionAssert.AreEqual(managedMasks.Masks[step], torchMasks.Masks[step], $"the mask after step {step + 1}");
        CollectionAssert.AreEqual(managedHook.Pruner.NonZeroCounts.ToArray(), torchHook.Pruner.NonZeroCounts.ToArray(), "N(t)");
        CollectionAssert.AreEqual(managedHook.Pruner.Events.ToArray(), torchHook.Pruner.Events.ToArray(), "pruning events");
        Assert.AreEqual(managedHook.AverageParameterCount(), torchHook.AverageParameterCount(), 0.0, "Nbar");
        Assert.AreEqual(managedHook.LastMaskedStateBuffers, torchHook.LastMaskedStateBuffers, "optimizer state buffers masked");
        Assert.HasCount(managedHook.LayerSnapshots.Count, torchHook.LayerSnapshots);
        TestContext.WriteLine($"Nbar {torchHook.AverageParameterCount():F1} of {torchHook.Mask.ParameterCount}; final sparsity of the linear weights {torchHook.PrunableSparsity:P1}");
    }

    [TestMethod]
    public void PrunedWeightsAndTheirAdamMomentsAreExactlyZeroOnTheDevice()
    {
        var tokens = ManagedModels.Tokens(600, Config.VocabularySize, seed: 7);
        var options = new LanguageModelTrainingOptions { BatchSize = 4, SequenceLength = 8, Steps = Steps, EvaluationInterval = 0, Seed = 2 };
        using var torch = (TorchLanguageModel)new TorchSharpBackend(TorchTestDevice.Cpu).CreateLanguageModel(Config, seed: 1);
        var hook = new PruningTrainingHook(Layout(), Plan());
        torch.Train(new LanguageModelTrainingRun(tokens, null, AdamW(), options) { Hooks = [hook] });

        var weights = Layout();
        torch.Module.StoreValuesTo(weights);
        long prunedSeen = 0;
        foreach (var slice in hook.Mask.PrunableSlices)
        {
            var mask = hook.Mask.MaskOf(slice);
            var values = weights.ValuesOf(weights.Parameters[slice.Index]);
            for (var index = 0; index < mask.Length; index++)
            {
                if (mask[index] != 0f) continue;
                prunedSeen++;
                Assert.AreEqual(0f, values[index], $"{slice.Name}[{index}] is pruned");
            }
        }

        Assert.AreEqual(hook.Mask.PrunedCount, prunedSeen);
        Assert.IsGreaterThan(0L, prunedSeen);
        Assert.AreEqual(hook.Mask.NonZeroCount, CountNonZero(weights), "every kept weight moved away from 0, every pruned one is 0");
    }

    [TestMethod]
    public void APruningStepZeroesTheAdamMomentsOfThePrunedWeights()
    {
        var tokens = ManagedModels.Tokens(600, Config.VocabularySize, seed: 7);
        var options = new LanguageModelTrainingOptions { BatchSize = 4, SequenceLength = 8, Steps = 4, EvaluationInterval = 0, Seed = 2 };
        var layout = Layout();
        var initial = GptModel.Create(Config, seed: 1, Parallelism.Sequential);
        using var module = new TorchGptModel(Config, TorchTestDevice.Cpu);
        module.LoadFrom(initial.Parameters);
        var hook = new PruningTrainingHook(layout, Plan() with { Schedule = SparsityScheduleKind.OneShot, StartFraction = 0.5, TotalSteps = 4 }); // 60% at once, after step 2
        using var task = new TorchLanguageModelTask(module, options, tokens, null);
        using var optimizer = new TorchOptimizer(module, layout, Optimizers.AdamW(new AdamWOptions(1e-2)));
        using var state = new TorchTrainingState(module, layout, optimizer, [hook]);
        new TrainingLoop(task, state, options.Loop).Run(RunRecord.ForLanguageModel(Config, options, AdamW(), tokens));

        Assert.AreEqual(2, hook.LastMaskedStateBuffers, "both moments were masked");
        Assert.AreEqual(1, hook.Pruner.Events.Count, "one pruning event");
        Assert.AreEqual(1, state.HostCopies, "the weights went to the host at the pruning event only");
        long zeroMoments = 0;
        foreach (var (name, parameter) in module.named_parameters())
        {
            var slice = hook.Mask.PrunableSlices.FirstOrDefault(candidate => candidate.Name == name);
            if (slice is null) continue;
            var mask = hook.Mask.MaskOf(slice).ToArray();
            foreach (var moment in optimizer.StateBuffersOf(parameter))
            {
                var values = TorchParameters.ToSingleArray(moment);
                for (var index = 0; index < mask.Length; index++)
                {
                    if (mask[index] != 0f) continue;
                    Assert.AreEqual(0f, values[index], $"a moment of {name}[{index}], pruned");
                    zeroMoments++;
                }
            }
        }

        Assert.AreEqual(2 * hook.Mask.PrunedCount, zeroMoments);
        Assert.IsGreaterThan(0L, zeroMoments);
    }

    [TestMethod]
    public void AHookWithoutADevicePartIsRefusedByName()
    {
        using var torch = new TorchSharpBackend(TorchTestDevice.Cpu).CreateLanguageModel(Config, seed: 1);
        var tokens = ManagedModels.Tokens(200, Config.VocabularySize, seed: 2);
        var options = new LanguageModelTrainingOptions { BatchSize = 2, SequenceLength = 8, Steps = 2 };
        var refused = Assert.ThrowsExactly<NotSupportedException>(() => torch.Train(new LanguageModelTrainingRun(tokens, null, AdamW(), options) { Hooks = [new CountingHook()] }));
        StringAssert.Contains(refused.Message, nameof(CountingHook));
        StringAssert.Contains(refused.Message, "ManagedBackend");
    }

    /// <summary>Cubic 0 → 60% of the linear weights between steps 2 and 9, pruning every 2 steps.</summary>
    internal static PruningOptions Plan(long totalSteps = Steps) => new()
    {
        FinalSparsity = 0.6, StartFraction = 1.0 / 6, EndFraction = 0.75, PruningInterval = 2, TotalSteps = totalSteps,
    };

    internal static IGradientTransform AdamW() => Optimizers.AdamW(new AdamWOptions(1e-2) { WeightDecay = 0.1 });

    internal static ParameterArena Layout() => new GptModel(Config, Parallelism.Sequential).Parameters;

    private static long CountNonZero(ParameterArena arena) => arena.Parameters.Sum(parameter => (long)arena.ValuesOf(parameter).ToArray().Count(value => value != 0f));

    /// <summary>Copies the hook's mask after every step (progress is reported synchronously, after the step's hooks).</summary>
    private sealed class MaskRecorder(PruningTrainingHook hook) : IProgress<TrainingProgress>
    {
        public List<float[]> Masks { get; } = [];

        public void Report(TrainingProgress value) => Masks.Add(hook.Mask.Buffer.ToArray());
    }

    /// <summary>A hook the TorchSharp backend has no device part for.</summary>
    private sealed class CountingHook : ITrainingHook
    {
        public void AfterBackward(long step, ParameterArena arena)
        {
        }

        public void AfterUpdate(long step, ParameterArena arena, IOptimizer optimizer)
        {
        }

        public void SaveState(BinaryWriter writer)
        {
        }

        public void LoadState(BinaryReader reader)
        {
        }
    }
}
