using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Backends;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.TorchSharp.Backends;
using Pipelines.Components.TorchSharp.Tests.Support;
using Pipelines.Components.Training;

namespace Pipelines.Components.TorchSharp.Tests.Backends;

/// <summary>The managed and TorchSharp backends behind the one boundary: the same seed, batches and AdamW give the same run.</summary>
[TestClass]
public sealed class TrainingBackendParityTests
{
    private const double Relative = 1e-4;

    public TestContext TestContext { get; set; } = null!;
    private static readonly TransformerConfig Config = new(layerCount: 2, headCount: 2, channels: 16, contextLength: 8, vocabularySize: 29);

    [TestMethod]
    public void SixStepsOfAdamWGiveTheSameLossesOnBothBackends()
    {
        var tokens = ManagedModels.Tokens(600, Config.VocabularySize, seed: 5);
        var validation = ManagedModels.Tokens(200, Config.VocabularySize, seed: 6);
        var options = new LanguageModelTrainingOptions { BatchSize = 4, SequenceLength = 8, Steps = 6, EvaluationInterval = 3, EvaluationBatches = 2, Seed = 9 };
        var schedule = new WarmupStableDecaySchedule(3e-3, 6, DecayLength.OfSteps(2), warmupSteps: 1);
        LanguageModelTrainingRun Run() => new(tokens, validation, new Chain(new ClipByGlobalNorm(1.0), Optimizers.AdamW(new AdamWOptions(schedule) { Beta2 = 0.95, WeightDecay = 0.1 })), options);

        using var managed = new ManagedBackend(1).CreateLanguageModel(Config, seed: 3);
        using var torch = new TorchSharpBackend(TorchTestDevice.Cpu).CreateLanguageModel(Config, seed: 3);
        var managedResult = managed.Train(Run());
        var torchResult = torch.Train(Run());

        Assert.AreEqual(6, torchResult.Steps);
        for (var step = 0; step < 6; step++)
        {
            var (expected, actual) = (managedResult.History[step], torchResult.History[step]);
            Assert.AreEqual(expected.TrainingLoss, actual.TrainingLoss, Relative * Math.Abs(expected.TrainingLoss), $"training loss of step {step + 1}");
            Assert.AreEqual(expected.LearningRate, actual.LearningRate, 1e-15, $"learning rate of step {step + 1}");
            Assert.AreEqual(expected.ValidationLoss.HasValue, actual.ValidationLoss.HasValue, $"validation after step {step + 1}");
            if (expected.ValidationLoss is { } loss) Assert.AreEqual(loss, actual.ValidationLoss!.Value, Relative * loss, $"validation loss after step {step + 1}");
        }

        Assert.IsLessThan(managedResult.History[0].TrainingLoss, managedResult.History[^1].TrainingLoss, "the run trains");
        Assert.AreEqual(managed.Evaluate(validation, options), torch.Evaluate(validation, options), Relative * managedResult.FinalValidationLoss!.Value);
    }

    [TestMethod]
    public void WeightsTrainedOnTorchSharpScoreTheSameOnTheManagedEngine()
    {
        var tokens = ManagedModels.Tokens(400, Config.VocabularySize, seed: 7);
        var options = new LanguageModelTrainingOptions { BatchSize = 2, SequenceLength = 8, Steps = 3, EvaluationInterval = 0, Seed = 1 };
        using var torch = new TorchSharpBackend("cpu").CreateLanguageModel(Config, seed: 4);
        torch.Train(new LanguageModelTrainingRun(tokens, null, Optimizers.AdamW(1e-2), options));
        using var saved = new MemoryStream();
        torch.SaveSafeTensors(saved);
        saved.Position = 0;
        using var managed = new ManagedBackend(1).LoadLanguageModel(Config, saved);

        var inputs = tokens.AsSpan(0, 16).ToArray();
        var targets = tokens.AsSpan(1, 16).ToArray();
        var expected = torch.LossSum(inputs, targets, 2, 8);
        Assert.AreEqual(expected, managed.LossSum(inputs, targets, 2, 8), Relative * expected);
        using var initial = new ManagedBackend(1).CreateLanguageModel(Config, seed: 4);
        var untrained = initial.LossSum(inputs, targets, 2, 8);
        Assert.IsGreaterThan(Relative * expected, Math.Abs(untrained - expected), "training moved the weights");
    }

    [TestMethod]
    public void UnknownTransformsAreRefusedNamingTheManagedBackend()
    {
        using var torch = new TorchSharpBackend(TorchTestDevice.Cpu).CreateLanguageModel(Config, seed: 1);
        var tokens = ManagedModels.Tokens(200, Config.VocabularySize, seed: 2);
        var options = new LanguageModelTrainingOptions { BatchSize = 2, SequenceLength = 8, Steps = 2 };
        var privateStep = new Chain(new Pipelines.Components.Privacy.DivideByExpectedBatchSize(0.5, 100), Optimizers.Sgd(1e-3));
        var unknown = Assert.ThrowsExactly<NotSupportedException>(() => torch.Train(new LanguageModelTrainingRun(tokens, null, privateStep, options)));
        StringAssert.Contains(unknown.Message, "DivideByExpectedBatchSize");
        StringAssert.Contains(unknown.Message, "ManagedBackend");
    }

    [TestMethod]
    public void SixWeightedStepsOfTheEncoderClassifierGiveTheSameLossesOnBothBackends()
    {
        var random = new Pipelines.Components.Compute.SeededRandom(8);
        var sequences = Enumerable.Range(0, 30).Select(example => ManagedModels.Tokens(2 + example % 7, Config.VocabularySize, seed: (ulong)example + 50)).ToArray();
        var labels = sequences.Select(sequence => sequence.Contains(3) ? 1 : random.NextInt32(2)).ToArray();
        var training = new LabeledSequences(sequences[..22], labels[..22]);
        var validation = new LabeledSequences(sequences[22..], labels[22..]);
        var weights = Enumerable.Range(0, 22).Select(example => example % 3 == 0 ? 2f : 0.5f).ToArray();
        var options = new ClassifierTrainerOptions { BatchSize = 5, MaximumSequenceLength = 8, Steps = 6, EvaluationInterval = 3, Seed = 4 };
        ClassifierTrainingRun Run() => new(training, validation, Optimizers.AdamW(3e-3, weightDecay: 0.1, clipNorm: 1.0), options) { ExampleWeights = weights };

        using var managed = new ManagedBackend(1).CreateClassifier(Config, classCount: 2, seed: 6);
        using var torch = new TorchSharpBackend(TorchTestDevice.Cpu).CreateClassifier(Config, classCount: 2, seed: 6);
        var managedResult = managed.Train(Run());
        var torchResult = torch.Train(Run());

        for (var step = 0; step < 6; step++)
        {
            var (expected, actual) = (managedResult.History[step], torchResult.History[step]);
            Assert.AreEqual(expected.TrainingLoss, actual.TrainingLoss, Relative * Math.Abs(expected.TrainingLoss), $"training loss of step {step + 1}");
            Assert.AreEqual(expected.ValidationLoss.HasValue, actual.ValidationLoss.HasValue, $"validation after step {step + 1}");
            if (expected.ValidationLoss is { } loss) Assert.AreEqual(loss, actual.ValidationLoss!.Value, Relative * loss, $"validation loss after step {step + 1}");
        }

        Assert.AreEqual(managedResult.FinalValidation!.Accuracy, torchResult.FinalValidation!.Accuracy);
        float[] expectedProbabilities = new float[2], actualProbabilities = new float[2];
        managed.Predict(sequences[25], 8, expectedProbabilities);
        torch.Predict(sequences[25], 8, actualProbabilities);
        for (var index = 0; index < 2; index++) Assert.AreEqual(expectedProbabilities[index], actualProbabilities[index], 1e-5f, $"probability of class {index}");
    }

    /// <summary>Any chain of the building blocks trains on the device: FOCUS (with its decay on matrices) and SGD with momentum lower the loss.</summary>
    [TestMethod]
    public void FocusAndSgdTrainAGptOnTorchSharp()
    {
        var tokens = Enumerable.Range(0, 600).Select(index => index * 7 % Config.VocabularySize).ToArray(); // a learnable cycle
        var options = new LanguageModelTrainingOptions { BatchSize = 4, SequenceLength = 8, Steps = 30, EvaluationInterval = 0, Seed = 3 };
        foreach (var (name, optimizer) in new[] { ("FOCUS", Optimizers.Focus(new FocusOptions(1e-2) { Beta2 = 0.99, Gamma = 0.2, WeightDecay = 0.1 })), ("SGD", Optimizers.Sgd(0.1, momentum: 0.9)) })
        {
            using var torch = new TorchSharpBackend(TorchTestDevice.Cpu).CreateLanguageModel(Config, seed: 2);
            var history = torch.Train(new LanguageModelTrainingRun(tokens, null, optimizer, options)).History;
            var (first, last) = (history.Take(3).Average(step => step.TrainingLoss), history.TakeLast(3).Average(step => step.TrainingLoss));
            Assert.AreEqual(30, history.Count);
            TestContext.WriteLine($"{name}: mean loss of the first three steps {first:F4}, of the last three {last:F4}");
            Assert.IsLessThan(0.8 * first, last, $"{name}: the mean loss of the first three steps is {first:F4}, of the last three {last:F4}");
        }
    }

    [TestMethod]
    public void AMalformedDeviceIsRefusedQuotingIt()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => new TorchSharpBackend("gpu:first"));
        StringAssert.Contains(error.Message, "gpu:first");
    }
}
