using Pipelines.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Serialization;
using Pipelines.Components.Training;

namespace Pipelines.Components.Tests.Training;

[TestClass]
public sealed class ClassifierTrainerTests
{
    private const int MarkerToken = 5;
    private static readonly TransformerConfig Tiny = new(layerCount: 1, headCount: 2, channels: 16, contextLength: 8, vocabularySize: 12);

    /// <summary>Sequences of 2..10 random tokens; label 1 when the marker token appears (about half of them).</summary>
    internal static LabeledSequences MarkerTask(int count, ulong seed)
    {
        var random = new SeededRandom(seed);
        var sequences = new int[count][];
        var labels = new int[count];
        for (var example = 0; example < count; example++)
        {
            var sequence = new int[2 + random.NextInt32(9)];
            for (var position = 0; position < sequence.Length; position++)
            {
                var token = random.NextInt32(Tiny.VocabularySize - 1);
                sequence[position] = token >= MarkerToken ? token + 1 : token;
            }

            // The marker goes among the first 8 tokens, which survive truncation to the context.
            labels[example] = random.NextInt32(2);
            if (labels[example] == 1) sequence[random.NextInt32(Math.Min(sequence.Length, Tiny.ContextLength))] = MarkerToken;
            sequences[example] = sequence;
        }

        return new LabeledSequences(sequences, labels);
    }

    private static (EncoderClassifier Model, GradientTransformOptimizer Optimizer) NewRun(double learningRate = 3e-3)
    {
        var model = EncoderClassifier.Create(Tiny, classCount: 2, seed: 11, Parallelism.Sequential);
        return (model, new GradientTransformOptimizer(Optimizers.AdamW(learningRate, weightDecay: 0), model.Parameters));
    }

    [TestMethod]
    public void ATinyEncoderLearnsWhetherAMarkerTokenAppears()
    {
        var (model, optimizer) = NewRun();
        var options = new ClassifierTrainerOptions { BatchSize = 16, MaximumSequenceLength = 8, Steps = 200, EvaluationInterval = 50, Seed = 3 };
        var trainer = new ClassifierTrainer(model, optimizer, options);
        var validation = MarkerTask(200, seed: 2);
        var before = trainer.Evaluate(validation);

        var result = trainer.Train(MarkerTask(400, seed: 1), validation);

        Assert.IsNotNull(result.FinalValidation);
        Assert.IsGreaterThan(0.9, result.FinalValidation.Accuracy, $"accuracy {result.FinalValidation.Accuracy:F3} (before training {before.Accuracy:F3})");
        Assert.IsLessThan(before.Loss, result.FinalValidation.Loss);
        Assert.AreEqual(200, result.History.Count);
        Assert.AreEqual(4, result.History.Count(record => record.ValidationLoss.HasValue), "evaluated at steps 50, 100, 150 and 200");
        Assert.AreEqual(result.FinalValidation.Loss, result.History[^1].ValidationLoss);
    }

    [TestMethod]
    public void ACancelledRunResumedFromItsCheckpointEndsBitIdenticalToAnUninterruptedOne()
    {
        var path = Path.Combine(Path.GetTempPath(), $"classifier-{Guid.NewGuid():N}.ckpt");
        try
        {
            var options = new ClassifierTrainerOptions { BatchSize = 5, MaximumSequenceLength = 6, Steps = 12, Seed = 9, CheckpointInterval = 4, CheckpointPath = path };
            var training = MarkerTask(23, seed: 4);
            var (straightModel, straightOptimizer) = NewRun();
            var straight = new ClassifierTrainer(straightModel, straightOptimizer, options).Train(training, null);

            var (model, optimizer) = NewRun();
            using var cancellation = new CancellationTokenSource();
            var stopAtSix = new SynchronousProgress<TrainingProgress>(report => { if (report.Step == 6) cancellation.Cancel(); });
            Assert.ThrowsExactly<OperationCanceledException>(() => new ClassifierTrainer(model, optimizer, options).Train(training, null, stopAtSix, cancellationToken: cancellation.Token));

            var (resumedModel, resumedOptimizer) = NewRun();
            var resumed = new ClassifierTrainer(resumedModel, resumedOptimizer, options).Train(training, null, resumeFrom: path);

            Assert.AreEqual(6L, resumed.StepsThisRun, "the cancelled run checkpointed step 6 before stopping");
            CollectionAssert.AreEqual(straightModel.Parameters.Values.ToArray(), resumedModel.Parameters.Values.ToArray());
            CollectionAssert.AreEqual(straight.History.Select(record => record.TrainingLoss).ToArray(), resumed.History.Select(record => record.TrainingLoss).ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ANonFiniteLossStopsTheRunNamingTheStep()
    {
        var (model, optimizer) = NewRun();
        model.Parameters.ValuesOf(model.Parameters["head.bias"])[0] = float.NaN;
        var trainer = new ClassifierTrainer(model, optimizer, new ClassifierTrainerOptions { BatchSize = 4, MaximumSequenceLength = 8, Steps = 3 });

        var error = Assert.ThrowsExactly<TrainingDivergedException>(() => trainer.Train(MarkerTask(10, seed: 1), null));

        Assert.AreEqual(0L, error.Step);
        Assert.AreEqual("loss", error.Tensor);
        StringAssert.Contains(error.Message, "step 0");
    }

    [TestMethod]
    public void ProgressReportsEveryStepWithItsEpoch()
    {
        var (model, optimizer) = NewRun();
        var reports = new List<TrainingProgress>();
        new ClassifierTrainer(model, optimizer, new ClassifierTrainerOptions { BatchSize = 4, MaximumSequenceLength = 8, Steps = 5 })
            .Train(MarkerTask(10, seed: 1), MarkerTask(6, seed: 2), new SynchronousProgress<TrainingProgress>(reports.Add));

        CollectionAssert.AreEqual(new long[] { 1, 2, 3, 4, 5 }, reports.Select(report => report.Step).ToArray());
        Assert.AreEqual(2.0, reports[^1].Epoch, 1e-12, "5 steps of 4 examples over 10 examples");
        Assert.IsNull(reports[0].ValidationLoss);
        Assert.IsNotNull(reports[^1].ValidationLoss);
        Assert.IsTrue(reports.All(report => report.TotalSteps == 5 && double.IsFinite(report.Loss) && report.TokensPerSecond > 0));
    }

    [TestMethod]
    public void ShuffledEpochsVisitEveryExampleOncePerEpochAndAnyStepIsReproducible()
    {
        const int exampleCount = 7, batchSize = 3, steps = 14; // 42 slots = 6 epochs, batches straddling epoch ends
        var sampler = new SequenceBatchSampler(exampleCount, batchSize, BatchSampling.ShuffledEpochs, seed: 5);
        var slots = new List<int>();
        var batch = new int[batchSize];
        for (var step = 0; step < steps; step++)
        {
            sampler.Sample(step, batch);
            slots.AddRange(batch);
        }

        for (var epoch = 0; epoch < steps * batchSize / exampleCount; epoch++)
            CollectionAssert.AreEquivalent(Enumerable.Range(0, exampleCount).ToArray(), slots.Skip(epoch * exampleCount).Take(exampleCount).ToArray(), $"epoch {epoch}");
        CollectionAssert.AreNotEqual(slots.Take(exampleCount).ToArray(), slots.Skip(exampleCount).Take(exampleCount).ToArray(), "each epoch is shuffled anew");

        var fresh = new SequenceBatchSampler(exampleCount, batchSize, BatchSampling.ShuffledEpochs, seed: 5);
        fresh.Sample(11, batch);
        CollectionAssert.AreEqual(slots.Skip(11 * batchSize).Take(batchSize).ToArray(), batch, "step 11 without steps 0..10");
    }

    [TestMethod]
    public void SamplingWithReplacementIsAPureFunctionOfTheStep()
    {
        var sampler = new SequenceBatchSampler(33, 7, BatchSampling.WithReplacement, seed: 2);
        var first = new int[7];
        var again = new int[7];
        var other = new int[7];
        sampler.Sample(40, first);
        sampler.Sample(3, other);
        new SequenceBatchSampler(33, 7, BatchSampling.WithReplacement, seed: 2).Sample(40, again);

        CollectionAssert.AreEqual(first, again);
        CollectionAssert.AreNotEqual(first, other);
        Assert.IsTrue(first.All(index => index is >= 0 and < 33));
    }

    [TestMethod]
    public void ABatchKeepsTheHeadOfLongSequencesAndPadsToTheLongestKept()
    {
        var batch = new PaddedSequenceBatch(maximumLength: 3);
        batch.Fill([[7], [1, 2, 3, 4, 5], [8, 9]], [10, 11, 12], [2, 0, 1]);

        Assert.AreEqual(3, batch.BatchSize);
        Assert.AreEqual(3, batch.TokenCount);
        CollectionAssert.AreEqual(new[] { 8, 9, 0, 7, 0, 0, 1, 2, 3 }, batch.Tokens.ToArray());
        CollectionAssert.AreEqual(new byte[] { 1, 1, 0, 1, 0, 0, 1, 1, 1 }, batch.KeyMask.ToArray());
        CollectionAssert.AreEqual(new[] { 12, 10, 11 }, batch.Labels.ToArray());
        Assert.AreEqual(6L, batch.ValidTokenCount);

        batch.Fill([[4, 4], [6]], null, [1]);
        Assert.AreEqual(1, batch.TokenCount, "T is the longest sequence of this batch");
        Assert.AreEqual(0, batch.Labels.Length);
    }

    [TestMethod]
    public void PredictingOneSequenceMatchesItsRowInAPaddedEvaluationBatch()
    {
        var (model, _) = NewRun();
        var data = MarkerTask(9, seed: 6);
        var batch = new PaddedSequenceBatch(maximumLength: 8);
        batch.Fill(data, Enumerable.Range(0, 9).ToArray());
        model.Forward(batch.Tokens, batch.KeyMask, batch.Labels, batch.BatchSize, batch.TokenCount);
        var batched = model.Probabilities.ToArray();

        var single = new float[2];
        for (var example = 0; example < 9; example++)
        {
            ClassifierTrainer.Predict(model, data.Sequences[example], 8, single);
            Assert.AreEqual(batched[2 * example], single[0], 1e-5f, $"example {example}");
            Assert.AreEqual(batched[2 * example + 1], single[1], 1e-5f, $"example {example}");
        }
    }

    [TestMethod]
    public void BadOptionsAndDataAreRejectedNamingTheCulprit()
    {
        Assert.AreEqual("BatchSize", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ClassifierTrainerOptions { BatchSize = 0 }).ParamName);
        Assert.AreEqual("Steps", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ClassifierTrainerOptions { Steps = 0 }).ParamName);
        Assert.AreEqual("EvaluationInterval", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ClassifierTrainerOptions { EvaluationInterval = -1 }).ParamName);
        Assert.AreEqual("Sampling", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ClassifierTrainerOptions { Sampling = (BatchSampling)7 }).ParamName);
        var (model, optimizer) = NewRun();
        var tooLong = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ClassifierTrainer(model, optimizer, new ClassifierTrainerOptions { MaximumSequenceLength = 9 }));
        Assert.AreEqual("MaximumSequenceLength", tooLong.ParamName);
        Assert.AreEqual(9, tooLong.ActualValue);
        var noPath = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ClassifierTrainer(model, optimizer, new ClassifierTrainerOptions { MaximumSequenceLength = 8, CheckpointInterval = 2 }));
        Assert.AreEqual("CheckpointPath", noPath.ParamName);

        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new LabeledSequences([[1], []], [0, 1])).Message, "Sequence 1 is empty");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new LabeledSequences([[1]], [0, 1])).Message, "1 sequences but 2 labels");
        var trainer = new ClassifierTrainer(model, optimizer, new ClassifierTrainerOptions { MaximumSequenceLength = 8 });
        var outsideVocabulary = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainer.Train(new LabeledSequences([[1], [3, 12]], [0, 1]), null));
        StringAssert.Contains(outsideVocabulary.Message, "Sequence 1 holds token id 12, outside the model's vocabulary of 12");
        var outsideClasses = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainer.Evaluate(new LabeledSequences([[1], [3]], [0, 2])));
        StringAssert.Contains(outsideClasses.Message, "Label 1 is 2; the model has 2 classes");
    }

    [TestMethod]
    public void APretrainedGptBodyIsCopiedAndTheHeadKeepsItsValues()
    {
        var gpt = GptModel.Create(Tiny, seed: 21, Parallelism.Sequential);
        using var file = new MemoryStream();
        gpt.Parameters.SaveSafeTensors(file);
        file.Position = 0;
        var (model, _) = NewRun();
        var head = model.Parameters.ValuesOf(model.Parameters["head.weight"]).ToArray();

        var copied = PretrainedEncoderBody.Load(model, SafeTensors.Read(file));

        Assert.AreEqual(gpt.Parameters.Parameters.Count, copied);
        foreach (var parameter in gpt.Parameters.Parameters)
            CollectionAssert.AreEqual(gpt.Parameters.ValuesOf(parameter).ToArray(), model.Parameters.ValuesOf(model.Parameters[parameter.Name]).ToArray(), parameter.Name);
        CollectionAssert.AreEqual(head, model.Parameters.ValuesOf(model.Parameters["head.weight"]).ToArray());

        var wider = GptModel.Create(new TransformerConfig(layerCount: 1, headCount: 2, channels: 8, contextLength: 8, vocabularySize: 12), seed: 1, Parallelism.Sequential);
        using var widerFile = new MemoryStream();
        wider.Parameters.SaveSafeTensors(widerFile);
        widerFile.Position = 0;
        var before = model.Parameters.Values.ToArray();
        var mismatch = Assert.ThrowsExactly<InvalidDataException>(() => PretrainedEncoderBody.Load(model, SafeTensors.Read(widerFile)));
        StringAssert.Contains(mismatch.Message, "tensor 'wte.weight' has shape [12, 8], the encoder's is [12, 16]");
        CollectionAssert.AreEqual(before, model.Parameters.Values.ToArray(), "a failed load changes nothing");
    }

    [TestMethod]
    public void HooksRunAroundEveryUpdateAndTheirStateTravelsWithTheCheckpoint()
    {
        var path = Path.Combine(Path.GetTempPath(), $"classifier-hook-{Guid.NewGuid():N}.ckpt");
        try
        {
            var options = new ClassifierTrainerOptions { BatchSize = 4, MaximumSequenceLength = 8, Steps = 4, CheckpointInterval = 2, CheckpointPath = path };
            var (model, optimizer) = NewRun();
            var hook = new RecordingHook();
            new ClassifierTrainer(model, optimizer, options with { Steps = 2 }, [hook]).Train(MarkerTask(10, seed: 1), null);
            CollectionAssert.AreEqual(new[] { "backward 0 at 0", "update 0 at 1", "backward 1 at 1", "update 1 at 2" }, hook.Calls);

            var (resumedModel, resumedOptimizer) = NewRun();
            var resumedHook = new RecordingHook();
            new ClassifierTrainer(resumedModel, resumedOptimizer, options, [resumedHook]).Train(MarkerTask(10, seed: 1), null, resumeFrom: path);

            Assert.AreEqual(4, resumedHook.Updates, "2 restored from the checkpoint + 2 made");
            Assert.AreEqual("backward 2 at 2", resumedHook.Calls[0]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Records the calls it gets (with the optimizer's step count) and counts updates, which it checkpoints.</summary>
    private sealed class RecordingHook : ITrainingHook
    {
        private long optimizerSteps;

        public List<string> Calls { get; } = [];

        public int Updates { get; private set; }

        public void AfterBackward(long step, Tensors.ParameterArena arena) => Calls.Add($"backward {step} at {optimizerSteps}");

        public void AfterUpdate(long step, Tensors.ParameterArena arena, IOptimizer optimizer)
        {
            optimizerSteps = optimizer.StepCount;
            Updates++;
            Calls.Add($"update {step} at {optimizerSteps}");
        }

        public void SaveState(BinaryWriter writer)
        {
            writer.Write(Updates);
            writer.Write(optimizerSteps);
        }

        public void LoadState(BinaryReader reader)
        {
            Updates = reader.ReadInt32();
            optimizerSteps = reader.ReadInt64();
        }
    }
}
