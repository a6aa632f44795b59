using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Serialization;
using Pipelines.Components.Training;

namespace Pipelines.Components.Tests.Training;

[TestClass]
public sealed class WsdRunsTests
{
    private const double Peak = 3e-3;
    private static readonly TransformerConfig Small = new(layerCount: 1, headCount: 2, channels: 8, contextLength: 8, vocabularySize: 11);
    private static readonly LanguageModelTrainingOptions Training = new() { BatchSize = 2, SequenceLength = 8, EvaluationInterval = 0, EvaluationBatches = 1, Seed = 3 };
    private static readonly WarmupStableDecaySchedule Open = WarmupStableDecaySchedule.OpenEnded(Peak, warmupSteps: 2, decaySteps: 6);

    private static int[] Tokens(int length) => Enumerable.Range(0, length).Select(index => (index * 7 + index / 11) % 11).ToArray();

    private static GptModel NewModel() => GptModel.Create(Small, seed: 4, Parallelism.Sequential);

    private static WsdRuns Runs() => new(NewModel, schedule => Optimizers.AdamW(schedule), Training, Tokens(400), Tokens(100));

    /// <summary>Reads a checkpoint of <see cref="Runs"/> into <paramref name="model"/> under <paramref name="schedule"/>.</summary>
    private static void ReadCheckpoint(string path, GptModel model, ISchedule schedule, params ITrainingHook[] hooks)
    {
        var optimizer = new GradientTransformOptimizer(Optimizers.AdamW(schedule), model.Parameters);
        TrainingCheckpoint.Read(path, model.Parameters, optimizer, hooks, RunRecord.ForLanguageModel(Small, Training, optimizer, Tokens(400)));
    }

    private static float[] WeightsIn(string safetensorsPath)
    {
        var model = new GptModel(Small, Parallelism.Sequential);
        model.Parameters.LoadSafeTensors(safetensorsPath);
        return model.Parameters.Values.ToArray();
    }

    private static void InTemporaryDirectory(Action<string> test)
    {
        var directory = Directory.CreateTempSubdirectory("pipelines-wsd-");
        try
        {
            test(directory.FullName);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void AnOpenEndedRunGoesOnUntilToldAndRefusesAChangedLayout() => InTemporaryDirectory(directory =>
    {
        var checkpoint = Path.Combine(directory, "main.ckpt");
        var runs = Runs();
        Assert.AreEqual(6, runs.RunMain(Open, 6, checkpoint).Steps);
        var continued = runs.RunMain(Open, 12, checkpoint);
        Assert.AreEqual(12, continued.Steps);
        CollectionAssert.AreEqual(Enumerable.Range(1, 12).Select(step => (long)step).ToArray(), continued.History.Select(row => row.Step).ToArray());
        Assert.IsTrue(continued.History.Skip(2).All(row => row.LearningRate == Peak), "the stable phase stays at the peak");

        var otherWarmup = WarmupStableDecaySchedule.OpenEnded(Peak, warmupSteps: 3, decaySteps: 6);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => runs.RunMain(otherWarmup, 16, checkpoint));
        StringAssert.Contains(error.Message, "warm-up steps changed from 2 to 3");

        // Finishing the run on purpose: the decay starts now and ends 6 steps later.
        var finished = runs.RunMain(Open.StartDecayAt(12), 18, checkpoint, acceptedChangeFrom: Open);
        var decay = finished.History.Where(row => row.Step > 12).Select(row => row.LearningRate).ToArray();
        CollectionAssert.AreEqual(Enumerable.Range(12, 6).Select(step => Open.StartDecayAt(12).ValueAt(step)).ToArray(), decay);
        Assert.IsTrue(decay[^1] < Peak / 5, $"the decay ends low: {decay[^1]}");
    });

    [TestMethod]
    public void ExtendingTheStablePhaseIsAcceptedOnPurpose() => InTemporaryDirectory(directory =>
    {
        var checkpoint = Path.Combine(directory, "main.ckpt");
        var runs = Runs();
        var planned = new WarmupStableDecaySchedule(Peak, new PhaseLayout(warmupSteps: 2, decayStart: 8, decaySteps: 4));
        runs.RunMain(planned, 6, checkpoint);
        var extended = planned.ExtendStable(4);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => runs.RunMain(extended, 16, checkpoint));
        StringAssert.Contains(error.Message, "decay start changed from 8 to 12");

        var result = runs.RunMain(extended, 16, checkpoint, acceptedChangeFrom: planned);
        Assert.AreEqual(16, result.Steps);
        Assert.AreEqual(Peak, result.History[10].LearningRate, "step 10 is stable in the extended plan (it would have decayed in the old one)");
        CollectionAssert.AreEqual(Enumerable.Range(0, 16).Select(step => extended.ValueAt(step)).ToArray(), result.History.Select(row => row.LearningRate).ToArray());
    });

    [TestMethod]
    public void BranchDecayMakesASeparateModelAndLeavesTheMainRunAlone() => InTemporaryDirectory(directory =>
    {
        var main = Path.Combine(directory, "main.ckpt");
        var branchModel = Path.Combine(directory, "branch", "budget-16.safetensors");
        var branchCheckpoint = Path.Combine(directory, "branch", "branch.ckpt");
        var runs = Runs();
        runs.RunMain(Open, 10, main);
        var before = File.ReadAllBytes(main);

        var branch = runs.BranchDecay(Open, main, decaySteps: 6, branchModel, branchCheckpoint);

        CollectionAssert.AreEqual(before, File.ReadAllBytes(main), "the main checkpoint was changed");
        Assert.AreEqual(16, branch.Steps);
        Assert.AreEqual(Open.BranchDecay(10, 6), branch.Schedule);
        CollectionAssert.AreEqual(new[] { branchModel }, branch.ModelPaths.ToArray());
        var branchRates = branch.History.Where(row => row.Step > 10).Select(row => row.LearningRate).ToArray();
        CollectionAssert.AreEqual(Enumerable.Range(10, 6).Select(step => Open.BranchDecay(10, 6).ValueAt(step)).ToArray(), branchRates);
        // The rates the branch actually ran: its first step already below the peak, its last at the floor.
        Assert.IsTrue(branchRates[0] < Peak && branchRates[^1] == Peak * Open.Layout.MinRatio, string.Join(", ", branchRates));

        // The main run continues from its own checkpoint, at the peak, to other weights.
        var continued = runs.RunMain(Open, 16, main);
        Assert.IsTrue(continued.History.Skip(10).All(row => row.LearningRate == Peak));
        var branchWeights = WeightsIn(branchModel);
        var mainModel = NewModel();
        ReadCheckpoint(main, mainModel, Open, new ScheduleLayoutHook(Open));
        CollectionAssert.AreNotEqual(mainModel.Parameters.Values.ToArray(), branchWeights);

        // The branch's own checkpoint holds the model that was saved, under the branch plan.
        var resumedBranch = NewModel();
        var branchPlan = Open.BranchDecay(10, 6);
        ReadCheckpoint(branchCheckpoint, resumedBranch, branchPlan, new ScheduleLayoutHook(branchPlan));
        CollectionAssert.AreEqual(branchWeights, resumedBranch.Parameters.Values.ToArray());
    });

    [TestMethod]
    public void BranchingOutsideTheStablePhaseOrFromAnotherPlanIsRefused() => InTemporaryDirectory(directory =>
    {
        var main = Path.Combine(directory, "main.ckpt");
        var runs = Runs();
        runs.RunMain(Open, 1, main); // still in the warm-up
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => runs.BranchDecay(Open, main, 4, Path.Combine(directory, "b.safetensors")));
        runs.RunMain(Open, 4, main);
        var other = WarmupStableDecaySchedule.OpenEnded(Peak, warmupSteps: 2, decaySteps: 9);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => runs.BranchDecay(other, main, 4, Path.Combine(directory, "b.safetensors")));
        StringAssert.Contains(error.Message, "decay steps changed from 6 to 9");
        Assert.ThrowsExactly<FileNotFoundException>(() => runs.BranchDecay(Open, Path.Combine(directory, "missing.ckpt"), 4, Path.Combine(directory, "b.safetensors")));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => runs.BranchDecay(Open, main, 0, Path.Combine(directory, "b.safetensors")));
    });

    [TestMethod]
    public void WsdsSavesOneModelPerBudgetAndResumesAtThePeakFromTheDecayedWeights() => InTemporaryDirectory(directory =>
    {
        var checkpoint = Path.Combine(directory, "wsds.ckpt");
        var decayed = Path.Combine(directory, "decayed");
        var plan = new WsdsPlan(Peak, [8, 16], decayFraction: 0.25, warmupSteps: 2);
        var runs = Runs();

        var first = runs.RunWsds(plan, 8, checkpoint, decayed);
        var atBudget = Path.Combine(decayed, "decayed-step8.safetensors");
        CollectionAssert.AreEqual(new[] { atBudget }, first.ModelPaths.ToArray());
        Assert.IsTrue(first.History[^1].LearningRate < Peak, "the first cycle ends decayed");
        var checkpointModel = NewModel();
        ReadCheckpoint(checkpoint, checkpointModel, plan, new ScheduleLayoutHook(plan), new DecayedCheckpointHook(plan, decayed));
        CollectionAssert.AreEqual(checkpointModel.Parameters.Values.ToArray(), WeightsIn(atBudget), "the saved model is the main branch's weights at the budget");

        var second = runs.RunWsds(plan, 16, checkpoint, decayed);
        CollectionAssert.AreEqual(new[] { atBudget, Path.Combine(decayed, "decayed-step16.safetensors") }, second.ModelPaths.ToArray());
        Assert.AreEqual(Peak, second.History[8].LearningRate, "step 8 starts the next cycle at the peak");
        Assert.IsTrue(second.History[^1].LearningRate < Peak);

        // Step 8 trained on the decayed weights: its loss is the decayed model's loss on step 8's batch.
        var decayedModel = NewModel();
        decayedModel.Parameters.LoadSafeTensors(atBudget);
        var (inputs, targets) = (new int[16], new int[16]);
        new TokenBatchSampler(Tokens(400), Training.BatchSize, Training.SequenceLength, Training.Seed).Sample(8, inputs, targets);
        Assert.AreEqual(second.History[8].TrainingLoss, decayedModel.Forward(inputs, targets, Training.BatchSize, Training.SequenceLength));
        CollectionAssert.AreNotEqual(WeightsIn(atBudget), WeightsIn(second.ModelPaths[1]));

        // A changed plan is refused; adding a budget on purpose is accepted.
        var error = Assert.ThrowsExactly<InvalidDataException>(() => runs.RunWsds(plan.AddBudget(24), 24, checkpoint, decayed));
        StringAssert.Contains(error.Message, "budgets changed from [8, 16] to [8, 16, 24]");
        var third = runs.RunWsds(plan.AddBudget(24), 24, checkpoint, decayed, acceptedChangeFrom: plan);
        Assert.HasCount(3, third.ModelPaths);
        Assert.AreEqual(Peak, third.History[16].LearningRate);
    });
}
