using Pipelines.Components.Backends;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Training;

namespace Pipelines.Components.Tests.Training;

/// <summary>Per-example loss weights of the classifier task: <c>L = Σ wᵢ·ℓᵢ / Σ wᵢ</c>, through the trainer and the backend boundary.</summary>
[TestClass]
public sealed class ExampleWeightTests
{
    private static readonly TransformerConfig Tiny = new(layerCount: 1, headCount: 2, channels: 16, contextLength: 8, vocabularySize: 12);

    [TestMethod]
    public void OneSgdStepMatchesTheWeightedMeanOfPerExampleLossesByHand()
    {
        var data = ClassifierTrainerTests.MarkerTask(6, seed: 4);
        float[] weights = [3, 0, 1, 0, 0.5f, 2];
        var options = new ClassifierTrainerOptions { BatchSize = data.Count, MaximumSequenceLength = 8, Steps = 1, Seed = 2 };
        var trained = EncoderClassifier.Create(Tiny, classCount: 2, seed: 7, Parallelism.Sequential);
        var result = new ClassifierTrainer(trained, new GradientTransformOptimizer(Optimizers.Sgd(0.5), trained.Parameters), options)
            .Train(data, null, exampleWeights: weights);

        var manual = EncoderClassifier.Create(Tiny, classCount: 2, seed: 7, Parallelism.Sequential);
        var batch = new PaddedSequenceBatch(8);
        batch.Fill(data, Enumerable.Range(0, data.Count).ToArray());
        manual.Parameters.ZeroGradients();
        manual.Forward(batch.Tokens, batch.KeyMask, batch.Labels, batch.BatchSize, batch.TokenCount);
        var weightSum = weights.Sum();
        var expectedLoss = Enumerable.Range(0, data.Count).Sum(row => weights[row] * (double)manual.Losses[row]) / weightSum;
        manual.Backward(weights.Select(weight => weight / weightSum).ToArray());

        Assert.AreEqual(expectedLoss, result.History[0].TrainingLoss, 1e-6 * expectedLoss, "the step's loss is the weighted mean");
        var values = trained.Parameters.Values;
        var initial = manual.Parameters.Values;
        var gradients = manual.Parameters.Gradients;
        for (var index = 0; index < values.Length; index++)
            Assert.AreEqual(initial[index] - 0.5f * gradients[index], values[index], 1e-5f, $"weight {index}");
    }

    [TestMethod]
    public void EqualWeightsTrainBitIdenticallyToNoWeights()
    {
        var data = ClassifierTrainerTests.MarkerTask(40, seed: 1);
        var options = new ClassifierTrainerOptions { BatchSize = 8, MaximumSequenceLength = 8, Steps = 6, Seed = 3 };
        using var plain = new ManagedBackend(1).CreateClassifier(Tiny, classCount: 2, seed: 5);
        using var weighted = new ManagedBackend(1).CreateClassifier(Tiny, classCount: 2, seed: 5);
        plain.Train(new ClassifierTrainingRun(data, null, Optimizers.AdamW(1e-2), options));
        weighted.Train(new ClassifierTrainingRun(data, null, Optimizers.AdamW(1e-2), options) { ExampleWeights = [.. Enumerable.Repeat(2f, data.Count)] });
        Assert.IsTrue(((ManagedClassifier)plain).Parameters.Values.SequenceEqual(((ManagedClassifier)weighted).Parameters.Values));
    }

    [TestMethod]
    public void WeightsOfTheWrongCountOrSignAreRefusedNamingTheExample()
    {
        var data = ClassifierTrainerTests.MarkerTask(4, seed: 1);
        var model = EncoderClassifier.Create(Tiny, classCount: 2, seed: 1, Parallelism.Sequential);
        var trainer = new ClassifierTrainer(model, new GradientTransformOptimizer(Optimizers.Sgd(0.1), model.Parameters), new ClassifierTrainerOptions { BatchSize = 2, MaximumSequenceLength = 8, Steps = 1 });
        Assert.AreEqual("exampleWeights", Assert.ThrowsExactly<ArgumentException>(() => trainer.Train(data, null, exampleWeights: [1, 1])).ParamName);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => trainer.Train(data, null, exampleWeights: [1, -1, 1, 1])).Message, "example 1");
    }
}
