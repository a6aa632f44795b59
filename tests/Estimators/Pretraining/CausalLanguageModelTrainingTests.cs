using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Pipelines.Components.Backends;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Training;
using Pipelines.Estimators.Tests.MachineLearning;
using Pipelines.Pretraining;

namespace Pipelines.Estimators.Tests.Pretraining;

[TestClass]
public sealed class CausalLanguageModelTrainingTests
{
    /// <summary>The trained model must beat its own untrained start by at least this much validation loss (nats per token).</summary>
    private const double RequiredLossDrop = 1.4;

    /// <summary>
    /// The trained model must score below this many bits per byte on the validation slice, whose byte-unigram entropy is
    /// about 4.4 and on which the untrained model scores 4.75 (seed 5, one thread: 400 steps reach 3.40).
    /// </summary>
    private const double RequiredBitsPerByte = 3.6;

    private const int Steps = 400;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [TestCategory("Slow")]
    public void ValidationLossFallsFarBelowTheStart()
    {
        var clock = Stopwatch.StartNew();
        var (model, _, validation) = PretrainingFixtures.Train(PretrainingFixtures.TinyOptions() with { Steps = Steps });
        var trainingSeconds = clock.Elapsed.TotalSeconds;
        var untrained = Untrained(model);

        var before = untrained.Evaluate(validation);
        var after = model.Evaluate(validation);

        TestContext.WriteLine($"{trainingSeconds:F1} s (time is a benchmark matter, not asserted); validation loss {before.Loss:F3} -> {after.Loss:F3} nats/token, {before.BitsPerByte:F3} -> {after.BitsPerByte:F3} bits/byte");
        Assert.AreEqual(Math.Log(model.Config.VocabularySize), before.Loss, 0.1, "an untrained GPT-2-style model predicts nearly uniformly");
        Assert.IsLessThan(before.Loss - RequiredLossDrop, after.Loss);
        Assert.IsNotNull(after.BitsPerByte);
        Assert.IsLessThan(RequiredBitsPerByte, after.BitsPerByte.Value);
        Assert.AreEqual(Steps, model.TrainingHistory.Count);
        Assert.AreEqual(Steps / 20, model.TrainingHistory.Count(record => record.ValidationLoss.HasValue));
        Assert.IsLessThan(model.TrainingHistory.First(record => record.ValidationLoss.HasValue).ValidationLoss!.Value, model.TrainingHistory[^1].ValidationLoss!.Value);
    }

    [TestMethod]
    public void TransformScoresEachRowLazilyAsItsMeanLossAndPerplexity()
    {
        var model = PretrainingFixtures.Model;
        var context = new MLContext(seed: 1);
        int[] short1 = [5, 17, 200, 31], short2 = [9];
        var data = PretrainingFixtures.Tokens(context, short1, [], short2);

        var scored = model.Transform(data);
        var losses = PretrainingFixtures.ReadSingles(scored, "Loss");
        var perplexities = PretrainingFixtures.ReadSingles(scored, "Perplexity");

        Assert.AreEqual((float)ManualLoss(model, short1), losses[0], 1e-5f);
        Assert.IsTrue(float.IsNaN(losses[1]), "an empty row has no loss");
        Assert.AreEqual((float)ManualLoss(model, short2), losses[2], 1e-5f);
        Assert.AreEqual(MathF.Exp(losses[0]), perplexities[0], 1e-3f * perplexities[0]);
        Assert.AreEqual(NumberDataViewType.Single, scored.Schema["Loss"].Type);
    }

    [TestMethod]
    public void RowsLongerThanTheContextAreScoredInWindows()
    {
        var model = PretrainingFixtures.Model;
        var context = model.Config.ContextLength;
        var random = new SeededRandom(3);
        var tokens = Enumerable.Range(0, 2 * context + 7).Select(_ => random.NextInt32(model.Config.VocabularySize)).ToArray();

        var loss = PretrainingFixtures.ReadSingles(model.Transform(PretrainingFixtures.Tokens(new MLContext(seed: 1), tokens)), "Loss")[0];
        var metrics = model.Evaluate(PretrainingFixtures.Tokens(new MLContext(seed: 1), tokens));

        Assert.AreEqual((float)ManualLoss(model, tokens), loss, 1e-5f);
        Assert.AreEqual(ManualLoss(model, tokens), metrics.Loss, 1e-5);
        Assert.AreEqual(tokens.Length, metrics.TokenCount);
        Assert.IsNotNull(metrics.BitsPerByte, "keys without a tokenizer annotation are counted with the model's own tokenizer");
    }

    [TestMethod]
    public void SavedModelLoadsInAFreshContextAsItsOwnTypeAndScoresAndGeneratesIdentically()
    {
        var model = PretrainingFixtures.Model;
        var context = new MLContext(seed: 1);
        var validation = PretrainingFixtures.Tokenizer.Transform(PretrainingFixtures.Validation(context));
        using var file = new MemoryStream();

        context.Model.Save(model, validation.Schema, file);
        file.Position = 0;
        var loaded = (CausalLanguageModelTransformer)new MLContext(seed: 2).Model.Load(file, out _);

        CollectionAssert.AreEqual(PretrainingFixtures.Bits(PretrainingFixtures.ReadSingles(model.Transform(validation), "Loss")),
            PretrainingFixtures.Bits(PretrainingFixtures.ReadSingles(loaded.Transform(validation), "Loss")));
        var sampling = new GenerationOptions { Seed = 11 };
        CollectionAssert.AreEqual(model.Generate([1, 2, 3], 24, sampling), loaded.Generate([1, 2, 3], 24, sampling));
        Assert.AreEqual(model.GenerateText("The jury", 12, sampling), loaded.GenerateText("The jury", 12, sampling), "the tokenizer is saved with the model");
        Assert.AreEqual(model.Config, loaded.Config);
        Assert.AreEqual(model.EndOfTextTokenId, loaded.EndOfTextTokenId);
        Assert.AreEqual(model.Training, loaded.Training);
        Assert.AreEqual(model.ThreadCount, loaded.ThreadCount);
        CollectionAssert.AreEqual(model.TrainingHistory.ToArray(), loaded.TrainingHistory.ToArray());
        Assert.IsTrue(model.Weights.SequenceEqual(loaded.Weights));
    }

    [TestMethod]
    public void NonFiniteWeightsAreRefusedNamingTheTensor()
    {
        var writer = new MemoryModelWriter();
        PretrainingFixtures.Model.Save(writer);

        foreach (var bad in new[] { float.NaN, float.PositiveInfinity })
        {
            var weights = MemoryModelWriter.EditTensor(writer.Entries["weights.safetensors"], "blocks.0.fc.weight", values => values[3] = bad);
            var error = Assert.ThrowsExactly<InvalidDataException>(() => CausalLanguageModelTransformer.Load(writer.ToReader("weights.safetensors", weights)));
            StringAssert.Contains(error.Message, "'blocks.0.fc.weight'");
            StringAssert.Contains(error.Message, "index 3");
        }

        Assert.IsInstanceOfType<CausalLanguageModelTransformer>(CausalLanguageModelTransformer.Load(writer.ToReader()), "the untouched parts load");
    }

    [TestMethod]
    public void GenerationDependsOnlyOnTheSeed()
    {
        var model = PretrainingFixtures.Model;

        var first = model.Generate([], 20, new GenerationOptions { Seed = 1 });
        var again = model.Generate([], 20, new GenerationOptions { Seed = 1 });
        var other = model.Generate([], 20, new GenerationOptions { Seed = 2 });
        var greedy = model.Generate([model.EndOfTextTokenId], 20, new GenerationOptions { Temperature = 0 });

        CollectionAssert.AreEqual(first, again);
        CollectionAssert.AreNotEqual(first, other);
        CollectionAssert.AreEqual(greedy, model.Generate([], 20, new GenerationOptions { Temperature = 0 }), "an empty prompt starts a document");
        Assert.IsEmpty(model.Generate([4], 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Generate([model.Config.VocabularySize], 1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Generate([4], -1));
    }

    [TestMethod]
    public void WholeChainFitsWithItsValidationSetAndLoadsInAFreshProcess()
    {
        var context = new MLContext(seed: 1);
        var train = PretrainingFixtures.Training(context);
        var validation = PretrainingFixtures.Validation(context);
        var reports = new List<TrainingProgress>();
        var options = PretrainingFixtures.TinyOptions() with { Steps = 10, EvaluationInterval = 5, ValidationSet = validation, Progress = new StepProgress<TrainingProgress>(reports.Add) };
        var pipeline = context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 300).Append(context.Pretraining().CausalLanguageModel(options));

        var chain = pipeline.Fit(train);
        var path = Path.Combine(Path.GetTempPath(), $"pipelines-lm-{Guid.NewGuid():N}.zip");
        try
        {
            context.Model.Save(chain, train.Schema, path);
            var loaded = (TransformerChain<ITransformer>)new MLContext(seed: 2).Model.Load(path, out _);

            var model = chain.LastTransformer;
            Assert.HasCount(10, reports, "the options' progress sees every step of a chain's Fit");
            Assert.AreEqual(2, model.TrainingHistory.Count(record => record.ValidationLoss.HasValue), "raw validation text is encoded with the chain's tokenizer");
            var metrics = chain.Evaluate(validation);
            Assert.IsNotNull(metrics.BitsPerByte);
            Assert.AreEqual(metrics, loaded.Evaluate(validation));
            Assert.IsInstanceOfType<CausalLanguageModelTransformer>(loaded.Last());
            var sampling = new GenerationOptions { Seed = 3 };
            var text = chain.GenerateText("The jury", 16, sampling);
            Assert.IsFalse(string.IsNullOrEmpty(text));
            Assert.AreEqual(text, loaded.GenerateText("The jury", 16, sampling));
            var expected = PretrainingFixtures.ReadSingles(chain.Transform(validation), "Perplexity");
            CollectionAssert.AreEqual(PretrainingFixtures.Bits(expected), PretrainingFixtures.Bits(PretrainingFixtures.ReadSingles(loaded.Transform(validation), "Perplexity")));

            string[] texts = ["The jury said it did find that many of the city's", "A second document."];
            var losses = PretrainingFixtures.ReadSingles(chain.Transform(context.Data.LoadFromEnumerable(texts.Select(line => new DocumentRow { Text = line }))), "Loss");
            var printed = ModelProbe.Run(path, texts);
            CollectionAssert.Contains(printed.Where(line => line[0] == "transformer").Select(line => line[1]).ToArray(), nameof(CausalLanguageModelTransformer));
            for (var row = 0; row < texts.Length; row++)
            {
                var line = printed.Single(fields => fields[0] == row.ToString() && fields[1] == "Loss");
                Assert.AreEqual(losses[row].ToString("R", System.Globalization.CultureInfo.InvariantCulture), line[2], $"row {row} in the other process");
            }

            using var engine = context.Model.CreatePredictionEngine<DocumentRow, ScoreRow>(loaded);
            foreach (var (document, loss) in texts.Zip(losses))
            {
                var prediction = engine.Predict(new DocumentRow { Text = document });
                Assert.AreEqual(BitConverter.SingleToInt32Bits(loss), BitConverter.SingleToInt32Bits(prediction.Loss), "one example at a time scores as the batch does");
                Assert.AreEqual(MathF.Exp(prediction.Loss), prediction.Perplexity, 1e-3f * prediction.Perplexity);
            }
        }
        finally
        {
            File.Delete(path);
            File.Delete(Path.ChangeExtension(path, ".texts.txt"));
        }
    }

    public sealed class ScoreRow
    {
        public float Loss { get; set; }

        public float Perplexity { get; set; }
    }

    [TestMethod]
    public void DivergingRunNamesTheStep()
    {
        var options = PretrainingFixtures.TinyOptions() with { LearningRate = 1e12, GradientClipNorm = null, Steps = 20 };

        var error = Assert.ThrowsExactly<TrainingDivergedException>(() => PretrainingFixtures.Train(options));

        Assert.IsGreaterThanOrEqualTo(1, error.Step);
        StringAssert.Contains(error.Message, $"step {error.Step}");
    }

    [TestMethod]
    public void RunIsLoggedThroughTheContextsLog()
    {
        var context = new MLContext(seed: 1);
        var messages = new System.Collections.Concurrent.ConcurrentQueue<string>();
        context.Log += (_, message) =>
        {
            if (message.Kind == ChannelMessageKind.Info && message.Source.Contains("CausalLanguageModel", StringComparison.Ordinal)) messages.Enqueue(message.RawMessage);
        };
        var train = PretrainingFixtures.Tokenizer.Transform(PretrainingFixtures.Training(context));
        var validation = PretrainingFixtures.Tokenizer.Transform(PretrainingFixtures.Validation(context));

        context.Pretraining().CausalLanguageModel(PretrainingFixtures.TinyOptions() with { Steps = 4, EvaluationInterval = 2, ValidationSet = validation }).Fit(train);

        var lines = messages.ToArray();
        Assert.HasCount(4, lines, string.Join(Environment.NewLine, lines));
        StringAssert.StartsWith(lines[0], "Pre-training a GPT of");
        StringAssert.StartsWith(lines[1], "Step 2: validation loss");
        StringAssert.StartsWith(lines[2], "Step 4: validation loss");
        StringAssert.StartsWith(lines[3], "Pre-training ended after 4 steps");
    }

    /// <summary>The same model before any update: the GPT-2 initialisation of the same seed.</summary>
    private static CausalLanguageModelTransformer Untrained(CausalLanguageModelTransformer model)
    {
        var initial = new ManagedBackend(1).CreateLanguageModel(model.Config, (ulong)(uint)model.Training.Seed);
        return new CausalLanguageModelTransformer(initial, model.EndOfTextTokenId,
            new LanguageModelColumns("Tokens", "Loss", "Perplexity"), 1, [], model.Training, model.Tokenizer);
    }

    /// <summary>The mean loss of <c>eot tokens</c> computed window by window on the engine model directly.</summary>
    private static double ManualLoss(CausalLanguageModelTransformer model, int[] tokens)
    {
        var engine = model.CreateModel();
        int[] sequence = [model.EndOfTextTokenId, .. tokens];
        var context = model.Config.ContextLength;
        double sum = 0;
        for (var start = 0; start < tokens.Length; start += context)
        {
            var length = Math.Min(context, tokens.Length - start);
            var mean = engine.Forward(sequence.AsSpan(start, length), sequence.AsSpan(start + 1, length), 1, length);
            sum += (double)mean * length;
        }

        return sum / tokens.Length;
    }

}
