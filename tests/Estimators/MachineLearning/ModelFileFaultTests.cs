using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.Estimators.Tests.FineTuning;
using Pipelines.FineTuning;

namespace Pipelines.Estimators.Tests.MachineLearning;

/// <summary>
/// Faults around ML.NET model files holding our transformers: a save that fails part way, thousands of damaged
/// files, and many threads scoring one loaded model at once.
/// </summary>
[TestClass]
public sealed class ModelFileFaultTests
{
    private static readonly Lazy<(MLContext Context, ITransformer Model, IDataView Data, byte[] File)> Trained = new(() =>
    {
        var context = new MLContext(seed: 5);
        var data = context.Data.LoadFromEnumerable(FineTuningData.Messages(60, seed: 11));
        var model = FineTuningData.Pipeline(context, FineTuningData.TinyOptions with { Steps = 20 }).Fit(data);
        using var file = new MemoryStream();
        context.Model.Save(model, data.Schema, file);
        return (context, model, data, file.ToArray());
    });

    [TestMethod]
    public void ASaveThatFailsPartWayLeavesThePreviousModelFileIntact()
    {
        var (context, model, data, _) = Trained.Value;
        var directory = Directory.CreateTempSubdirectory("pipelines-model-fault-").FullName;
        try
        {
            var path = Path.Combine(directory, "model.zip");
            context.Model.SaveAtomically(model, data.Schema, path);
            var before = File.ReadAllBytes(path);
            // A custom mapping without a contract name cannot be saved: ML.NET throws after our transformers were written.
            var unsavable = new TransformerChain<ITransformer>([.. (IEnumerable<ITransformer>)model,
                context.Transforms.CustomMapping<Message, Message>((input, output) => output.Text = input.Text, contractName: null).Fit(data)]);

            Assert.Throws<InvalidOperationException>(() => context.Model.SaveAtomically(unsavable, data.Schema, path));

            CollectionAssert.AreEqual(before, File.ReadAllBytes(path), "the previous file is byte for byte the same");
            Assert.AreEqual(1, Directory.GetFiles(directory, "*", SearchOption.AllDirectories).Length, "no temporary file is left behind");
            var reloaded = new MLContext(seed: 1).Model.Load(path, out _);
            CollectionAssert.AreEqual(FineTuningData.Scores(context, model, data)[0], FineTuningData.Scores(context, reloaded, data)[0]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    [TestCategory("Slow")]
    public void ThousandsOfDamagedModelFilesFailOnlyWithDocumentedExceptionsQuicklyAndWithBoundedMemory()
    {
        var (_, _, data, original) = Trained.Value;
        var documented = new[] { typeof(InvalidDataException), typeof(InvalidOperationException), typeof(FormatException), typeof(IOException), typeof(ArgumentException) };
        var random = new Random(20261204);
        var outcomes = new Dictionary<string, int>();
        var slowest = TimeSpan.Zero;
        long mostAllocated = 0;
        const int Mutants = 2000;
        for (var mutant = 0; mutant < Mutants; mutant++)
        {
            var damaged = Mutate(original, random, out var kind);
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var clock = Stopwatch.StartNew();
            string outcome;
            try
            {
                var loaded = new MLContext(seed: 1).Model.LoadModel(new MemoryStream(damaged), out _);
                _ = FineTuningData.Scores(new MLContext(seed: 1), loaded, data);
                outcome = "loaded and scored";
            }
            catch (Exception exception)
            {
                // LoadModel unwraps ML.NET's reflection wrappers: the loader's own exception arrives.
                Assert.IsTrue(documented.Any(type => type.IsInstanceOfType(exception)),
                    $"mutant {mutant} ({kind}) failed with {exception.GetType().FullName}: {exception.Message}\n{exception.StackTrace}");
                outcome = exception.GetType().Name;
            }

            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
            mostAllocated = Math.Max(mostAllocated, GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        Console.WriteLine($"{Mutants} mutants of a {original.Length:N0}-byte model: {string.Join(", ", outcomes.OrderByDescending(pair => pair.Value).Select(pair => $"{pair.Key} {pair.Value}"))}; slowest {slowest.TotalMilliseconds:F0} ms; most allocated {mostAllocated / 1e6:F1} MB");
        Assert.IsLessThan(TimeSpan.FromSeconds(10), slowest, "no damaged file makes loading hang");
        Assert.IsLessThan(256L * 1024 * 1024, mostAllocated, "no damaged file makes loading allocate without bound");
        Assert.IsGreaterThan(Mutants / 2, outcomes.Where(pair => pair.Key != "loaded and scored").Sum(pair => pair.Value), "most mutants are refused");
    }

    [TestMethod]
    public void ManyThreadsEachWithItsOwnPredictionEngineOverOneLoadedModelGiveTheSequentialResults()
    {
        var (_, _, _, file) = Trained.Value;
        var context = new MLContext(seed: 3);
        var model = context.Model.Load(new MemoryStream(file), out _);
        var messages = FineTuningData.Messages(64, seed: 21);
        using var sequentialEngine = context.Model.CreatePredictionEngine<Message, MessagePrediction>(model);
        var sequential = messages.Select(message => sequentialEngine.Predict(message)).ToArray();

        var results = new MessagePrediction[8][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = results.Length }, thread =>
        {
            using var engine = context.Model.CreatePredictionEngine<Message, MessagePrediction>(model);
            // Each thread scores the messages in its own order, so the engines interleave differently.
            var order = Enumerable.Range(0, messages.Length).OrderBy(index => (index * 31 + thread * 17) % messages.Length).ToArray();
            var predictions = new MessagePrediction[messages.Length];
            foreach (var index in order) predictions[index] = engine.Predict(messages[index]);
            results[thread] = predictions;
        });

        for (var thread = 0; thread < results.Length; thread++)
            for (var row = 0; row < messages.Length; row++)
            {
                Assert.AreEqual(sequential[row].PredictedLabel, results[thread][row].PredictedLabel, $"thread {thread}, row {row}");
                CollectionAssert.AreEqual(sequential[row].Score, results[thread][row].Score, $"thread {thread}, row {row}: scores bit for bit");
            }
    }

    private static byte[] Mutate(byte[] original, Random random, out string kind)
    {
        var bytes = (byte[])original.Clone();
        switch (random.Next(5))
        {
            case 0:
                kind = "flipped bits";
                for (var flip = 0; flip < 1 + random.Next(8); flip++) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
            case 1:
                kind = "truncated";
                return bytes[..random.Next(bytes.Length)];
            case 2:
                kind = "zeroed range";
                var start = random.Next(bytes.Length);
                Array.Clear(bytes, start, Math.Min(bytes.Length - start, 1 + random.Next(64)));
                return bytes;
            case 3:
                kind = "random bytes";
                var at = random.Next(bytes.Length);
                random.NextBytes(bytes.AsSpan(at, Math.Min(bytes.Length - at, 1 + random.Next(16))));
                return bytes;
            default:
                kind = "large value at a random place";
                var position = random.Next(Math.Max(1, bytes.Length - 4));
                BitConverter.TryWriteBytes(bytes.AsSpan(position), random.Next(2) == 0 ? int.MaxValue : -1);
                return bytes;
        }
    }
}
