using Pipelines.Components.Schedules;
using System.Diagnostics;
using Pipelines.Components.Training;
using Pipelines.Pretraining;

namespace Pipelines.Estimators.Tests.Pretraining;

[TestClass]
public sealed class CheckpointResumeTests
{
    private const int Steps = 12;

    private static string TemporaryPath() => Path.Combine(Path.GetTempPath(), $"pipelines-pretraining-{Guid.NewGuid():N}.ckpt");

    private static CausalLanguageModelOptions Options() => PretrainingFixtures.TinyOptions() with { Steps = Steps, EvaluationInterval = 4 };

    [TestMethod]
    public void HalfARunThenResumeEqualsTheStraightRunBitForBit()
    {
        var checkpoint = TemporaryPath();
        try
        {
            var straight = PretrainingFixtures.Train(Options()).Model;

            using var cancellation = new CancellationTokenSource();
            var halfway = new StepProgress<TrainingProgress>(report =>
            {
                if (report.Step == Steps / 2) cancellation.Cancel();
            });
            var interrupted = Options() with { CheckpointPath = checkpoint, CheckpointInterval = 5 };
            Assert.ThrowsExactly<OperationCanceledException>(() => PretrainingFixtures.Train(interrupted, halfway, cancellation.Token));
            var resumed = PretrainingFixtures.Train(interrupted with { ResumeFrom = checkpoint }).Model;

            Assert.IsTrue(straight.Weights.SequenceEqual(resumed.Weights), "the weights differ");
            CollectionAssert.AreEqual(straight.TrainingHistory.ToArray(), resumed.TrainingHistory.ToArray());
            Assert.AreEqual(Steps, resumed.TrainingHistory.Count);
            Assert.AreEqual(Steps / 4, resumed.TrainingHistory.Count(record => record.ValidationLoss.HasValue));
        }
        finally
        {
            File.Delete(checkpoint);
        }
    }

    [TestMethod]
    public void CancellationStopsPromptlyAndWritesACheckpoint()
    {
        var checkpoint = TemporaryPath();
        try
        {
            using var cancellation = new CancellationTokenSource();
            var clock = new Stopwatch();
            var lastStep = 0L;
            var progress = new StepProgress<TrainingProgress>(report =>
            {
                lastStep = report.Step;
                if (report.Step != 3) return;
                clock.Start();
                cancellation.Cancel();
            });
            // A constant rate: the resumed run below is shorter, and a default (warmup-stable-decay) plan derived from a
            // different step count would rightly be refused as a changed plan (WarmupStableDecayPretrainingTests).
            var options = PretrainingFixtures.TinyOptions() with
            {
                Steps = 1_000_000, CheckpointPath = checkpoint, CheckpointInterval = 1000, LearningRateSchedule = new ConstantSchedule(1e-2),
            };

            Assert.ThrowsExactly<OperationCanceledException>(() => PretrainingFixtures.Train(options, progress, cancellation.Token));

            Assert.AreEqual(3, lastStep, "no step runs after the cancellation");
            Assert.IsLessThan(2.0, clock.Elapsed.TotalSeconds);
            Assert.IsTrue(File.Exists(checkpoint), "cancelling with checkpointing on writes a checkpoint");
            var resumed = PretrainingFixtures.Train(options with { Steps = 5, ResumeFrom = checkpoint }).Model;
            Assert.AreEqual(5, resumed.TrainingHistory.Count, "the checkpoint holds the 3 steps made");
        }
        finally
        {
            File.Delete(checkpoint);
        }
    }

    [TestMethod]
    public void CancelledBeforeTheStartTrainsNothing()
    {
        var checkpoint = TemporaryPath();
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.ThrowsExactly<OperationCanceledException>(() => PretrainingFixtures.Train(Options() with { CheckpointPath = checkpoint }, cancellationToken: cancellation.Token));

        Assert.IsFalse(File.Exists(checkpoint));
    }
}
