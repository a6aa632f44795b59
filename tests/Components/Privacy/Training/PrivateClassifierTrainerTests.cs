using Pipelines.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Privacy;
using Pipelines.Components.Training;

namespace Pipelines.Components.Tests.Privacy.Training;

/// <summary>Private fine-tuning of the encoder: the budget as a contract, epsilon in every report, calibration, resume, bad settings.</summary>
[TestClass]
public sealed class PrivateClassifierTrainerTests
{
    private static readonly LabeledSequences Data = ModelPerExampleClippingTests.EncoderData(count: 64, seed: 8);

    private static readonly DifferentialPrivacy Seeded = new(targetEpsilon: 2) { Delta = 1e-3, Randomness = NoiseRandomness.Seeded, Seed = 5 };

    private static ClassifierTrainerOptions Options(long steps) => new() { BatchSize = 8, MaximumSequenceLength = 12, Steps = steps, Seed = 3 };

    private static (EncoderClassifier Model, PrivateClassifierTrainer Trainer) Make(DifferentialPrivacy privacy, ClassifierTrainerOptions options)
    {
        var model = EncoderClassifier.Create(ModelPerExampleClippingTests.Tiny, classCount: 3, seed: 6, Parallelism.Sequential);
        return (model, new PrivateClassifierTrainer(model, Optimizers.AdamW(1e-2), options, privacy));
    }

    [TestMethod]
    public void TrainingStopsBeforeTheStepThatWouldExceedTheBudgetAndEveryReportCarriesTheEpsilonSpent()
    {
        var privacy = Seeded with { NoiseMultiplier = 1.0 };
        var reports = new List<TrainingProgress>();
        var (_, trainer) = Make(privacy, Options(steps: 500));
        var result = trainer.Train(Data, null, new SynchronousProgress<TrainingProgress>(reports.Add));

        Assert.IsTrue(result.Privacy.StoppedByBudget, "sigma 1 cannot pay for 500 steps at epsilon 2");
        Assert.IsTrue(result.Training.Steps is > 1 and < 500, $"stopped after {result.Training.Steps} steps");
        Assert.AreEqual(result.Training.Steps, reports.Count, "one report per step taken");
        Assert.IsTrue(reports.All(report => report.Epsilon is { } epsilon && epsilon <= privacy.TargetEpsilon), "no report above the target");
        for (var index = 1; index < reports.Count; index++) Assert.IsTrue(reports[index].Epsilon > reports[index - 1].Epsilon, "epsilon grows with every step");
        Assert.AreEqual(reports[^1].Epsilon!.Value, result.Privacy.Epsilon, 1e-12);
        var oneMore = new RdpAccountant();
        oneMore.Step(1.0, 8.0 / 64, result.Training.Steps + 1);
        Assert.IsTrue(oneMore.GetEpsilon(privacy.Delta) > privacy.TargetEpsilon, "the refused step would indeed have exceeded the budget");
        Assert.AreEqual(RdpAccountant.Compute(1.0, 8.0 / 64, result.Training.Steps, privacy.Delta).Epsilon, result.Privacy.Epsilon, 1e-12, "the guarantee is the accountant's");
    }

    [TestMethod]
    public void OnExhaustedThrowRefusesTheStepWithTheEpsilonsInvolved()
    {
        var (_, trainer) = Make(Seeded with { NoiseMultiplier = 1.0, OnExhausted = OnBudgetExhausted.Throw }, Options(steps: 500));
        var exception = Assert.ThrowsExactly<PrivacyBudgetExhaustedException>(() => trainer.Train(Data, null));
        Assert.AreEqual(2, exception.TargetEpsilon);
        Assert.IsTrue(exception.ProjectedEpsilon > 2 && exception.SpentEpsilon <= 2);
    }

    [TestMethod]
    public void ACalibratedNoiseRunsEveryPlannedStepAndEndsJustBelowTheTarget()
    {
        var validation = ModelPerExampleClippingTests.EncoderData(count: 20, seed: 9);
        var (_, trainer) = Make(Seeded, Options(steps: 40) with { EvaluationInterval = 20 });
        var result = trainer.Train(Data, validation);

        Assert.IsFalse(result.Privacy.StoppedByBudget);
        Assert.AreEqual(40L, result.Training.Steps);
        Assert.IsTrue(result.Privacy.Epsilon <= 2 && result.Privacy.Epsilon >= 2 - 0.011, $"epsilon {result.Privacy.Epsilon}");
        Assert.AreEqual(NoiseCalibration.NoiseMultiplier(2, 1e-3, 8.0 / 64, 40), result.Privacy.NoiseMultiplier, 1e-12);
        Assert.IsNotNull(result.Training.FinalValidation);
        Assert.AreEqual(2, result.Training.History.Count(metrics => metrics.ValidationLoss is not null), "validated at steps 20 and 40");
    }

    [TestMethod]
    public void PerLayerClippingSplitsTheClipNormAndKeepsTheAccountedNoiseAndLongSequencesAreCut()
    {
        var (_, trainer) = Make(Seeded with { NoiseMultiplier = 1.5, Clipping = ClippingLayout.PerLayer, ClipNorm = 2 }, Options(steps: 5) with { MaximumSequenceLength = 4 });
        var result = trainer.Train(Data, null);
        var groups = ModelPerExampleClippingTests.Tiny.LayerCount + 2;
        Assert.AreEqual(groups, result.Privacy.ClipNorms.Count);
        foreach (var norm in result.Privacy.ClipNorms) Assert.AreEqual(2 / Math.Sqrt(groups), norm, 1e-12);
        Assert.AreEqual(RdpAccountant.Compute(1.5, 8.0 / 64, 5, 1e-3).Epsilon, result.Privacy.Epsilon, 1e-12, "accounted at sigma 1.5");
    }

    [TestMethod]
    public void AResumedRunContinuesTheAccountantAndTheWeightsExactlyAndOtherPrivacySettingsAreRefused()
    {
        var path = Path.Combine(Path.GetTempPath(), $"private-classifier-{Guid.NewGuid():N}.ckpt");
        try
        {
            var options = Options(steps: 10) with { CheckpointInterval = 3, CheckpointPath = path };
            var (straightModel, straight) = Make(Seeded, options);
            var straightResult = straight.Train(Data, null);

            using var cancellation = new CancellationTokenSource();
            var (_, interrupted) = Make(Seeded, options);
            Assert.ThrowsExactly<OperationCanceledException>(() =>
                interrupted.Train(Data, null, new SynchronousProgress<TrainingProgress>(report => { if (report.Step == 5) cancellation.Cancel(); }), cancellationToken: cancellation.Token));
            var (resumedModel, resumed) = Make(Seeded, options);
            var resumedResult = resumed.Train(Data, null, resumeFrom: path);

            Assert.AreEqual(5L, resumedResult.Training.StepsThisRun);
            Assert.AreEqual(straightResult.Privacy.Epsilon, resumedResult.Privacy.Epsilon, 0, "the accountant's history continued");
            CollectionAssert.AreEqual(straightModel.Parameters.Values.ToArray(), resumedModel.Parameters.Values.ToArray(), "bit-identical weights");

            var (_, changed) = Make(Seeded with { ClipNorm = 0.5 }, options);
            var exception = Assert.ThrowsExactly<RunChangedException>(() => changed.Train(Data, null, resumeFrom: path));
            StringAssert.Contains(exception.Message, "privacy.ClipNorm");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void BadSettingsAreRefusedNamingTheValue()
    {
        void Refused<TException>(Action action, string value) where TException : Exception =>
            StringAssert.Contains(Assert.ThrowsExactly<TException>(action).Message, value);

        Refused<ArgumentOutOfRangeException>(() => _ = new DifferentialPrivacy(0), "TargetEpsilon");
        Refused<ArgumentOutOfRangeException>(() => _ = new DifferentialPrivacy(-1), "-1");
        Refused<ArgumentOutOfRangeException>(() => _ = Seeded with { ClipNorm = 0 }, "ClipNorm");
        Refused<ArgumentOutOfRangeException>(() => _ = Seeded with { NoiseMultiplier = -0.5 }, "-0.5");
        Refused<ArgumentOutOfRangeException>(() => _ = Seeded with { SamplingRate = 0 }, "SamplingRate");
        Refused<ArgumentOutOfRangeException>(() => _ = Seeded with { SamplingRate = 1.5 }, "1.5");
        Refused<ArgumentOutOfRangeException>(() => _ = Seeded with { Delta = 1 }, "Delta");
        Refused<ArgumentException>(() => Make(new DifferentialPrivacy(1) { Seed = 4 }, Options(1)), "4");
        Refused<ArgumentException>(() => Make(new DifferentialPrivacy(1) { Randomness = NoiseRandomness.Seeded }, Options(1)), "seed");

        var (_, deltaTooLarge) = Make(Seeded with { Delta = 1.0 / 64 }, Options(1));
        Refused<ArgumentOutOfRangeException>(() => deltaTooLarge.Train(Data, null), "0.015625");
        var (_, batchTooLarge) = Make(Seeded, Options(1) with { BatchSize = 100 });
        Refused<ArgumentOutOfRangeException>(() => batchTooLarge.Train(Data, null), "100 / 64");
    }
}
