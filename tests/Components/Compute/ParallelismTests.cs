using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;

namespace Pipelines.Components.Tests.Compute;

[TestClass]
public sealed class ParallelismTests
{
    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(7, 2)]
    [DataRow(33, 3)]
    [DataRow(1000, 8)]
    [DataRow(3, 16)]
    public void ChunksCoverTheRangeOnceAndMatchTheSequentialSum(int count, int threads)
    {
        var visits = new int[count];
        new Parallelism(threads).For(count, (start, end) =>
        {
            for (var index = start; index < end; index++) Interlocked.Increment(ref visits[index]);
        });
        CollectionAssert.AreEqual(Enumerable.Repeat(1, count).ToArray(), visits);

        var starts = new int[count + 1];
        new Parallelism(threads).For(count, starts, static (chunkStarts, start, end) => Interlocked.Increment(ref chunkStarts[start]), minimumChunk: 2);
        var expectedChunks = Math.Min(threads, Math.Max(1, count / 2));
        Assert.AreEqual(expectedChunks, starts.Sum(), "one call per chunk");
        Assert.AreEqual(1, starts[0]);
    }

    [TestMethod]
    public void ResultsDoNotDependOnWhichThreadRunsAChunk()
    {
        const int count = 10_000;
        var values = Enumerable.Range(0, count).Select(index => (float)Math.Cos(index)).ToArray();
        float[] Run()
        {
            var sums = new float[4];
            new Parallelism(4).For(count, (values, sums), static (state, start, end) =>
            {
                var chunk = (int)((long)start * 4 / count);
                var sum = 0f;
                for (var index = start; index < end; index++) sum += state.values[index];
                state.sums[chunk] = sum;
            });
            return sums;
        }

        var first = Run();
        for (var repetition = 0; repetition < 50; repetition++) CollectionAssert.AreEqual(first, Run());
    }

    [TestMethod]
    public void ExceptionFromAChunkPropagatesAndThePoolStaysUsable()
    {
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => new Parallelism(2).For(100, (start, end) =>
        {
            if (start > 0) throw new InvalidOperationException("chunk " + start);
        }));
        Assert.AreEqual("chunk 50", error.Message);

        var total = 0;
        new Parallelism(2).For(100, (start, end) => Interlocked.Add(ref total, end - start));
        Assert.AreEqual(100, total);
    }

    [TestMethod]
    public void NestedAndConcurrentCallsComplete()
    {
        var total = 0L;
        var parallelism = new Parallelism(3);
        var callers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var repetition = 0; repetition < 200; repetition++)
            {
                parallelism.For(6, (outerStart, outerEnd) =>
                    parallelism.For(10 * (outerEnd - outerStart), (start, end) => Interlocked.Add(ref total, end - start)));
            }
        })).ToArray();
        Assert.IsTrue(Task.WaitAll(callers, TimeSpan.FromSeconds(30)), "a nested or concurrent For did not return");
        Assert.AreEqual(4L * 200 * 60, total);
    }

    [TestMethod]
    public void NothingRunsForAnEmptyRangeAndBadArgumentsThrow()
    {
        var calls = 0;
        new Parallelism(2).For(0, (start, end) => calls++);
        Assert.AreEqual(0, calls);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Parallelism(0));
        Assert.ThrowsExactly<ArgumentNullException>(() => new Parallelism(2).For(10, null!));
    }
}
