using System.Diagnostics;
using Pipelines.Data;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Training;
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
        var context = new PipelineContext(1);
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

        var loss = PretrainingFixtures.ReadSingles(model.Transform(PretrainingFixtures.Tokens(new PipelineContext(1), tokens)), "Loss")[0];
        var metrics = model.Evaluate(PretrainingFixtures.Tokens(new PipelineContext(1), tokens));

        Assert.AreEqual((float)ManualLoss(model, tokens), loss, 1e-5f);
        Assert.AreEqual(ManualLoss(model, tokens), metrics.Loss, 1e-5);
        Assert.AreEqual(tokens.Length, metrics.TokenCount);
        Assert.IsNull(metrics.BitsPerByte, "without the tokenizer there are no bytes to count");
    }

    [TestMethod]
    public void SavedAndLoadedModelScoresAndGeneratesIdentically()
    {
        var model = PretrainingFixtures.Model;
        var context = new PipelineContext(1);
        var validation = PretrainingFixtures.Tokenizer.Transform(PretrainingFixtures.Validation(context));
        using var file = new MemoryStream();

        context.Model.Save(model, validation.Schema, file);
        file.Position = 0;
        var loaded = (CausalLanguageModelTransformer)context.Model.Load(file, out _);

        CollectionAssert.AreEqual(Bits(PretrainingFixtures.ReadSingles(model.Transform(validation), "Loss")), Bits(PretrainingFixtures.ReadSingles(loaded.Transform(validation), "Loss")));
        var sampling = new GenerationOptions { Seed = 11 };
        CollectionAssert.AreEqual(model.Generate([1, 2, 3], 24, sampling), loaded.Generate([1, 2, 3], 24, sampling));
        Assert.AreEqual(model.Config, loaded.Config);
        Assert.AreEqual(model.EndOfTextTokenId, loaded.EndOfTextTokenId);
        Assert.AreEqual(model.Training, loaded.Training);
        CollectionAssert.AreEqual(model.TrainingHistory.ToArray(), loaded.TrainingHistory.ToArray());
        Assert.IsTrue(model.Weights.SequenceEqual(loaded.Weights));
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
    public void ChainOfTokenizerAndModelWorksOnTextAndSurvivesSaving()
    {
        var context = new PipelineContext(1);
        var train = PretrainingFixtures.Training(context);
        var validation = PretrainingFixtures.Validation(context);
        var pipeline = context.Text.TrainBytePairEncoding(vocabularySize: 300)
            .Append(context.Pretraining.CausalLanguageModel(options: PretrainingFixtures.TinyOptions() with { Steps = 10 }));

        var chain = pipeline.Fit(train);
        using var file = new MemoryStream();
        context.Model.Save(chain, train.Schema, file);
        file.Position = 0;
        var loaded = (TransformerChain<ITransformer>)context.Model.Load(file, out _);

        var model = chain.LastTransformer;
        Assert.AreEqual(300, model.Config.VocabularySize, "the vocabulary comes from the tokenizer");
        Assert.AreEqual(299, model.EndOfTextTokenId, "the end-of-text token is the tokenizer's last id");
        var metrics = chain.Evaluate(validation);
        Assert.IsNotNull(metrics.BitsPerByte);
        Assert.AreEqual(metrics, loaded.Evaluate(validation));
        var options = new GenerationOptions { Seed = 3 };
        var text = chain.GenerateText("The jury", 16, options);
        Assert.IsFalse(string.IsNullOrEmpty(text));
        Assert.AreEqual(text, loaded.GenerateText("The jury", 16, options));
        CollectionAssert.AreEqual(
            Bits(PretrainingFixtures.ReadSingles(chain.Transform(validation), "Perplexity")),
            Bits(PretrainingFixtures.ReadSingles(loaded.Transform(validation), "Perplexity")));

        using var engine = context.Model.CreatePredictionEngine<DocumentRow, ScoreRow>(loaded);
        var document = new DocumentRow { Text = "The jury said it did find that many of the city's" };
        var prediction = engine.Predict(document);
        var expected = PretrainingFixtures.ReadSingles(chain.Transform(context.Data.LoadFromEnumerable([document])), "Loss")[0];
        Assert.AreEqual(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(prediction.Loss), "one example at a time scores as the batch does");
        Assert.AreEqual(MathF.Exp(prediction.Loss), prediction.Perplexity, 1e-3f * prediction.Perplexity);
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
    public void RunIsLoggedThroughTheContextsLoggerFactory()
    {
        var logger = new RecordingLogger();
        var context = new PipelineContext(1, new RecordingLoggerFactory(logger));
        var train = PretrainingFixtures.Tokenizer.Transform(PretrainingFixtures.Training(context));
        var validation = PretrainingFixtures.Tokenizer.Transform(PretrainingFixtures.Validation(context));

        context.Pretraining.CausalLanguageModel(PretrainingFixtures.TinyOptions() with { Steps = 4, EvaluationInterval = 2 }).Fit(train, validation);

        var messages = logger.Messages.ToArray();
        Assert.HasCount(4, messages, string.Join(Environment.NewLine, messages));
        StringAssert.StartsWith(messages[0], "Pre-training a GPT of");
        StringAssert.StartsWith(messages[1], "Step 2: validation loss");
        StringAssert.StartsWith(messages[2], "Step 4: validation loss");
        StringAssert.StartsWith(messages[3], "Pre-training ended after 4 steps");
    }

    private sealed class RecordingLogger : Microsoft.Extensions.Logging.ILogger
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Messages { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Enqueue(formatter(state, exception));
    }

    private sealed class RecordingLoggerFactory(RecordingLogger logger) : Microsoft.Extensions.Logging.ILoggerFactory
    {
        public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider) { }

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => logger;

        public void Dispose() { }
    }

    /// <summary>The same model before any update: the GPT-2 initialisation of the same seed.</summary>
    private static CausalLanguageModelTransformer Untrained(CausalLanguageModelTransformer model)
    {
        var initial = GptModel.Create(model.Config, (ulong)(uint)model.Training.Seed, Parallelism.Sequential);
        return new CausalLanguageModelTransformer(model.Config, initial.Parameters.Values.ToArray(), model.EndOfTextTokenId,
            new LanguageModelColumns("Tokens", "Loss", "Perplexity"), 1, [], model.Training);
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

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];
}
