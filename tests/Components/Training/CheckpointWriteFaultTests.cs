using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Serialization;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Tests.Training;

/// <summary>A checkpoint write that fails part way leaves the previous checkpoint intact and loadable, and no debris.</summary>
[TestClass]
public sealed class CheckpointWriteFaultTests
{
    private static readonly TransformerConfig Config = new(layerCount: 1, headCount: 2, channels: 8, contextLength: 8, vocabularySize: 11);
    private static readonly LanguageModelTrainingOptions Training = new() { BatchSize = 2, SequenceLength = 8, EvaluationInterval = 0, Seed = 3 };
    private static readonly int[] Tokens = [.. Enumerable.Range(0, 300).Select(index => (index * 7 + index / 11) % 11)];

    public TestContext TestContext { get; set; } = null!;

    private sealed record Run(GptModel Model, GradientTransformOptimizer Optimizer, LanguageModelTrainingResult Result, RunRecord Record);

    private static Run TrainSteps(long steps, string? checkpoint = null)
    {
        var model = GptModel.Create(Config, seed: 5, Parallelism.Sequential);
        var optimizer = new GradientTransformOptimizer(Optimizers.AdamW(1e-2), model.Parameters);
        var options = Training with { Steps = steps, CheckpointInterval = checkpoint is null ? 0 : (int)steps, CheckpointPath = checkpoint };
        var result = new LanguageModelTrainer(model, optimizer, options).Train(Tokens, null);
        return new Run(model, optimizer, result, RunRecord.ForLanguageModel(Config, options, optimizer, Tokens));
    }

    private static long LoadStep(string checkpoint)
    {
        var model = GptModel.Create(Config, seed: 5, Parallelism.Sequential);
        var optimizer = new GradientTransformOptimizer(Optimizers.AdamW(1e-2), model.Parameters);
        return TrainingCheckpoint.Read(checkpoint, model.Parameters, optimizer, null, RunRecord.ForLanguageModel(Config, Training, optimizer, Tokens)).Step;
    }

    private static void InTemporaryDirectory(Action<string> test)
    {
        var directory = Directory.CreateTempSubdirectory("pipelines-write-fault-");
        try
        {
            test(directory.FullName);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [TestMethod]
    [Timeout(30_000)]
    public void AnIOErrorAtAnyByteLeavesThePreviousCheckpointIntact() => InTemporaryDirectory(directory =>
    {
        var checkpoint = Path.Combine(directory, "run.ckpt");
        TrainSteps(4, checkpoint);
        var previous = File.ReadAllBytes(checkpoint);
        var later = TrainSteps(8);
        using var measure = new MemoryStream();
        TrainingCheckpoint.Write(measure, 8, later.Model.Parameters, later.Optimizer, later.Result.History, null, later.Record);
        var fullLength = measure.Length;

        // Every byte position would be slow; 0, 1, the last, and 60 positions spread over the file cover each section.
        var cuts = new SortedSet<long> { 0, 1, fullLength - 1 };
        for (var index = 1; index <= 60; index++) cuts.Add(fullLength * index / 61);
        foreach (var cut in cuts)
        {
            var error = Assert.ThrowsExactly<IOException>(() => AtomicFile.Write(checkpoint,
                stream => TrainingCheckpoint.Write(new FailingStream(stream, cut), 8, later.Model.Parameters, later.Optimizer, later.Result.History, null, later.Record)));

            StringAssert.Contains(error.Message, "injected");
            CollectionAssert.AreEqual(previous, File.ReadAllBytes(checkpoint), $"cut at byte {cut} of {fullLength}");
            Assert.AreEqual(4, LoadStep(checkpoint), $"cut at byte {cut}: the previous checkpoint loads");
            CollectionAssert.AreEqual(new[] { "run.ckpt" }, Directory.GetFiles(directory).Select(Path.GetFileName).ToArray(), "no temporary file is left");
        }

        TestContext.WriteLine($"injected an I/O error at {cuts.Count} byte positions of a {fullLength}-byte checkpoint; the previous one survived each time");
        AtomicFile.Write(checkpoint, stream => TrainingCheckpoint.Write(stream, 8, later.Model.Parameters, later.Optimizer, later.Result.History, null, later.Record));
        Assert.AreEqual(8, LoadStep(checkpoint), "an unhindered write replaces it");
    });

    [TestMethod]
    public void AFailingHookDuringTheWriteLeavesThePreviousCheckpointIntact() => InTemporaryDirectory(directory =>
    {
        var checkpoint = Path.Combine(directory, "run.ckpt");
        var run = TrainSteps(4, checkpoint);
        var previous = File.ReadAllBytes(checkpoint);

        Assert.ThrowsExactly<InvalidOperationException>(() =>
            TrainingCheckpoint.Write(checkpoint, 4, run.Model.Parameters, run.Optimizer, run.Result.History, [new ThrowingHook()], run.Record));

        CollectionAssert.AreEqual(previous, File.ReadAllBytes(checkpoint));
        Assert.HasCount(1, Directory.GetFiles(directory));
    });

    /// <summary>Passes writes through until <paramref name="failAfter"/> bytes, then throws an I/O error, like a full or failing disk.</summary>
    private sealed class FailingStream(Stream inner, long failAfter) : Stream
    {
        private long written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var allowed = (int)Math.Clamp(failAfter - written, 0, buffer.Length);
            inner.Write(buffer[..allowed]);
            written += allowed;
            if (allowed < buffer.Length) throw new IOException($"An injected I/O error after {written} bytes.");
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    private sealed class ThrowingHook : ITrainingHook
    {
        public void AfterBackward(long step, ParameterArena arena)
        {
        }

        public void AfterUpdate(long step, ParameterArena arena, IOptimizer optimizer)
        {
        }

        public void SaveState(BinaryWriter writer)
        {
            writer.Write(new byte[1000]);
            throw new InvalidOperationException("The hook cannot save its state.");
        }

        public void LoadState(BinaryReader reader)
        {
        }
    }
}
