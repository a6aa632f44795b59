using Microsoft.ML;
using Pipelines.Components.Schedules;

namespace Pipelines.Estimators.Tests.Pretraining;

/// <summary>WSD plans through the pre-training estimator: kept in the checkpoint, changed only on purpose, WSD-S models saved.</summary>
[TestClass]
public sealed class WarmupStableDecayPretrainingTests
{
    [TestMethod]
    public void ResumingUnderAChangedPlanIsRefusedNamingTheChange()
    {
        var directory = Directory.CreateTempSubdirectory("pipelines-wsd-");
        try
        {
            var checkpoint = Path.Combine(directory.FullName, "main.ckpt");
            var stable = WarmupStableDecaySchedule.OpenEnded(1e-2, warmupSteps: 2, decaySteps: 4);
            var options = PretrainingFixtures.TinyOptions() with { Steps = 6, LearningRateSchedule = stable, CheckpointPath = checkpoint, CheckpointInterval = 6 };
            PretrainingFixtures.Train(options);

            var changed = WarmupStableDecaySchedule.OpenEnded(1e-2, warmupSteps: 3, decaySteps: 4);
            var error = Assert.ThrowsExactly<InvalidDataException>(() =>
                PretrainingFixtures.Train(options with { Steps = 8, LearningRateSchedule = changed, ResumeFrom = checkpoint, CheckpointPath = null, CheckpointInterval = 0 }));
            StringAssert.Contains(error.Message, "warm-up");
            StringAssert.Contains(error.Message, nameof(Pipelines.Pretraining.CausalLanguageModelOptions.AcceptedScheduleChangeFrom), "the refusal names the option an estimator user can set");

            // Deciding the decay on purpose is accepted: a branch of 4 decay steps from the stable checkpoint at step 6.
            var branch = stable.BranchDecay(6, 4);
            var before = File.ReadAllBytes(checkpoint);
            var branched = PretrainingFixtures.Train(options with
            {
                Steps = 10, LearningRateSchedule = branch, AcceptedScheduleChangeFrom = stable, ResumeFrom = checkpoint,
                CheckpointPath = Path.Combine(directory.FullName, "branch.ckpt"),
            }).Model;
            CollectionAssert.AreEqual(before, File.ReadAllBytes(checkpoint), "the main run's checkpoint is untouched by the branch");
            Assert.AreEqual(10, branched.TrainingHistory.Count);
            Assert.AreEqual(branch.ValueAt(9), branched.TrainingHistory[^1].LearningRate, 1e-12, "the branch follows its decay");
            Assert.AreEqual(0.0, branch.ValueAt(10), "the branch has decayed to its floor after its last step");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void ResumingUnderAnotherBatchSizeIsRefusedUnlessDeclared()
    {
        var directory = Directory.CreateTempSubdirectory("pipelines-run-");
        try
        {
            var checkpoint = Path.Combine(directory.FullName, "run.ckpt");
            var options = PretrainingFixtures.TinyOptions() with { Steps = 4, LearningRateSchedule = new ConstantSchedule(1e-2), CheckpointPath = checkpoint, CheckpointInterval = 4 };
            PretrainingFixtures.Train(options);
            var resumed = options with { Steps = 6, BatchSize = 4, ResumeFrom = checkpoint, CheckpointPath = null, CheckpointInterval = 0 };

            var error = Assert.ThrowsExactly<Components.Training.RunChangedException>(() => PretrainingFixtures.Train(resumed));
            StringAssert.Contains(error.Message, "training.BatchSize: checkpoint 8, current 4");
            StringAssert.Contains(error.Message, "AcceptedRunChanges = BatchSize");

            var model = PretrainingFixtures.Train(resumed with { AcceptedRunChanges = Components.Training.RunChanges.BatchSize }).Model;
            Assert.AreEqual(6, model.TrainingHistory.Count, "declared on purpose, the change resumes");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void WsdsRunSavesOneDecayedModelPerBudget()
    {
        var directory = Directory.CreateTempSubdirectory("pipelines-wsds-");
        try
        {
            var plan = new WsdsPlan(1e-2, [4, 8], decayFraction: 0.5);
            var options = PretrainingFixtures.TinyOptions() with { Steps = 8, LearningRateSchedule = plan, DecayedModelDirectory = directory.FullName };
            var model = PretrainingFixtures.Train(options).Model;
            var saved = Directory.GetFiles(directory.FullName, "*.safetensors").Select(Path.GetFileName).Order().ToArray();
            Assert.AreEqual(2, saved.Length, string.Join(", ", saved));
            Assert.AreEqual(plan.ValueAt(4), model.TrainingHistory[4].LearningRate, 1e-12, "the main branch resumes at the peak after the first decay");
            Assert.AreEqual(1e-2, plan.ValueAt(4), 1e-12);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void DecayedModelsNeedAWsdsPlan()
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            new MLContext(seed: 1).Pretraining().CausalLanguageModel(PretrainingFixtures.TinyOptions() with { DecayedModelDirectory = "somewhere" }));
        Assert.AreEqual("DecayedModelDirectory", error.ParamName);
    }
}
