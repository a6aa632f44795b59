using Pipelines.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Privacy;
using Pipelines.Components.Tests.Privacy;
using Pipelines.Components.Training;

namespace Pipelines.Components.Tests.Privacy.Rldp;

/// <summary>Controllers inside private training: no action can break the budget; RLDP is deterministic for a seed and resumes exactly.</summary>
[TestClass]
public sealed class RldpTrainingTests
{
    private static readonly LabeledSequences Data = ModelPerExampleClippingTests.EncoderData(count: 64, seed: 8);

    private static readonly DifferentialPrivacy Seeded = new(targetEpsilon: 1.5) { Delta = 1e-3, Randomness = NoiseRandomness.Seeded, Seed = 5, Clipping = ClippingLayout.PerLayer };

    private static ClassifierTrainerOptions Options(long steps) => new() { BatchSize = 8, MaximumSequenceLength = 12, Steps = steps, Seed = 3 };

    private static (EncoderClassifier Model, PrivateClassifierTrainer Trainer) Make(DifferentialPrivacy privacy, ClassifierTrainerOptions options)
    {
        var model = EncoderClassifier.Create(ModelPerExampleClippingTests.Tiny, classCount: 3, seed: 6, Parallelism.Sequential);
        return (model, new PrivateClassifierTrainer(model, Optimizers.AdamW(1e-2), options, privacy));
    }

    [TestMethod]
    public void RandomAndExtremeActionsNeverTakeEpsilonAboveTheBudget()
    {
        foreach (var (name, policy) in new (string, Func<Random, double>)[]
        {
            ("no noise", _ => 0),
            ("tiny noise", _ => 1e-3),
            ("random noise", random => random.NextDouble() * 3),
            ("infinite and NaN noise", random => random.Next(2) == 0 ? double.PositiveInfinity : double.NaN),
        })
        {
            var reports = new List<TrainingProgress>();
            var (_, trainer) = Make(Seeded with { Controller = new Adversary(policy) }, Options(steps: 60));
            var result = trainer.Train(Data, null, new SynchronousProgress<TrainingProgress>(reports.Add));
            Assert.IsTrue(reports.All(report => report.Epsilon <= Seeded.TargetEpsilon), $"{name}: a report above the budget");
            Assert.IsTrue(result.Privacy.Epsilon <= Seeded.TargetEpsilon, $"{name}: epsilon {result.Privacy.Epsilon}");
            Assert.AreEqual(60L, result.Training.Steps, $"{name}: the projection raised the noise so every planned step fits");
        }
    }

    [TestMethod]
    public void RldpIsDeterministicForASeedStaysWithinTheBudgetAndResumesExactly()
    {
        var path = Path.Combine(Path.GetTempPath(), $"rldp-{Guid.NewGuid():N}.ckpt");
        try
        {
            var privacy = Seeded with { Controller = new RldpController { Interval = 3, UpdatesPerAction = 4 } };
            var validation = ModelPerExampleClippingTests.EncoderData(count: 16, seed: 11);
            var options = Options(steps: 14) with { CheckpointInterval = 4, CheckpointPath = path };
            var (first, firstTrainer) = Make(privacy, options);
            var firstResult = firstTrainer.Train(Data, validation);
            var (second, secondTrainer) = Make(privacy, options);
            secondTrainer.Train(Data, validation);
            CollectionAssert.AreEqual(first.Parameters.Values.ToArray(), second.Parameters.Values.ToArray(), "same seed, same bits");
            Assert.IsTrue(firstResult.Privacy.Epsilon <= privacy.TargetEpsilon);
            Assert.AreEqual(14L, firstResult.Privacy.Steps);
            CollectionAssert.AreNotEqual(
                PrivateClippingGroups.InitialClipNorms(ClippingLayout.PerLayer, 2, 1), firstResult.Privacy.ClipNorms.ToArray(), "the controller moved the clipping norms");

            using var cancellation = new CancellationTokenSource();
            var (_, interrupted) = Make(privacy, options);
            Assert.ThrowsExactly<OperationCanceledException>(() =>
                interrupted.Train(Data, validation, new SynchronousProgress<TrainingProgress>(report => { if (report.Step == 9) cancellation.Cancel(); }), cancellationToken: cancellation.Token));
            var (resumedModel, resumed) = Make(privacy, options);
            var resumedResult = resumed.Train(Data, validation, resumeFrom: path);
            Assert.AreEqual(firstResult.Privacy.Epsilon, resumedResult.Privacy.Epsilon, 0, "the accountant continued");
            CollectionAssert.AreEqual(firstResult.Privacy.ClipNorms.ToArray(), resumedResult.Privacy.ClipNorms.ToArray(), "the policy continued");
            CollectionAssert.AreEqual(first.Parameters.Values.ToArray(), resumedModel.Parameters.Values.ToArray(), "bit-identical weights after the resume");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void BadRldpSettingsAreRefusedNamingTheValue()
    {
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => _ = new RldpController { Interval = 0 }).Message, "Interval");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => _ = new RldpController { ClipRange = 1 }).Message, "ClipRange");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => _ = new RldpController { NoiseRange = 0.5 }).Message, "0.5");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => _ = new RldpController { PrivacyPenalty = -1 }).Message, "PrivacyPenalty");
    }

    /// <summary>Acts every step with clipping norms anywhere in [1e-3, 1e3] and the noise its policy chooses.</summary>
    private sealed record Adversary(Func<Random, double> Noise) : PrivacyController
    {
        internal override IPrivacyControl? Start(int groupCount, ulong seed) => new Control(this, groupCount);

        private sealed class Control(Adversary settings, int groupCount) : IPrivacyControl
        {
            private readonly Random random = new(17);

            public int Interval => 1;

            public PrivacyAction Act(PrivacyObservation observation) =>
                new(Enumerable.Range(0, groupCount).Select(_ => Math.Pow(10, 6 * random.NextDouble() - 3)).ToArray(), settings.Noise(random));

            public void SaveState(BinaryWriter writer)
            {
            }

            public void LoadState(BinaryReader reader)
            {
            }
        }
    }
}
