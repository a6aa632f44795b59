using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Pipelines.Components.Compute;

/// <summary>
/// The process's compute threads behind <see cref="Parallelism.For{TState}"/>: one background thread per extra
/// processor, started on first use, which spin briefly after each job and then sleep. It holds no user-visible
/// state — only idle threads and the job in flight — so sharing it across the process hides nothing.
/// </summary>
/// <remarks>
/// The caller publishes a job (a body and a fixed number of chunks), then takes chunks itself alongside the
/// workers; each chunk is claimed by one compare-and-swap on (generation, next chunk), so a worker holding a
/// stale job can never claim a chunk of a newer one. Chunk boundaries come from the caller, so which thread
/// runs a chunk never changes a result. One job runs at a time: a second caller (another thread, or a body
/// calling For again) runs its chunks inline, in order, on its own thread — same bits, no deadlock.
/// </remarks>
internal static class WorkerPool
{
    /// <summary>How long an idle worker polls for the next job before sleeping (kernels of a step follow one another within microseconds).</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 20_000; // 50 µs

    private static readonly object Gate = new();
    private static int busy;          // 1 while a job owns the pool
    private static int started;       // 1 once the workers exist
    private static int sleepers;      // workers waiting on Gate
    private static long state;        // generation << 32 | next unclaimed chunk
    private static IChunkJob? job;
    private static int chunkCount;
    private static int completed;
    private static Exception? failure;

    /// <summary>Number of worker threads besides the caller (processors − 1).</summary>
    public static int WorkerCount { get; } = Math.Max(0, Environment.ProcessorCount - 1);

    /// <summary>Runs <paramref name="work"/>'s chunks 0..<paramref name="chunks"/>-1, on the pool when it is free, else inline.</summary>
    public static void Run(IChunkJob work, int chunks)
    {
        if (WorkerCount == 0 || Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            for (var chunk = 0; chunk < chunks; chunk++) work.RunChunk(chunk);
            return;
        }

        try
        {
            EnsureStarted();
            job = work;
            chunkCount = chunks;
            completed = 0;
            failure = null;
            var generation = (Volatile.Read(ref state) >> 32) + 1;
            Interlocked.Exchange(ref state, generation << 32); // publishes the fields above
            if (Volatile.Read(ref sleepers) > 0)
            {
                lock (Gate) Monitor.PulseAll(Gate);
            }

            Participate(generation, work, chunks);
            var spinner = new SpinWait();
            while (Volatile.Read(ref completed) < chunks) spinner.SpinOnce(sleep1Threshold: -1);
            job = null;
            if (failure is { } error) ExceptionDispatchInfo.Throw(error);
        }
        finally
        {
            Volatile.Write(ref busy, 0);
        }
    }

    /// <summary>Claims and runs chunks of job <paramref name="generation"/> until none is left.</summary>
    private static void Participate(long generation, IChunkJob work, int chunks)
    {
        while (true)
        {
            var current = Volatile.Read(ref state);
            var next = (int)(current & 0xFFFFFFFF);
            if (current >> 32 != generation || next >= chunks) return;
            if (Interlocked.CompareExchange(ref state, current + 1, current) != current) continue;
            try
            {
                work.RunChunk(next);
            }
            catch (Exception exception)
            {
                Interlocked.CompareExchange(ref failure, exception, null);
            }

            Interlocked.Increment(ref completed);
        }
    }

    private static void EnsureStarted()
    {
        if (Volatile.Read(ref started) == 1 || Interlocked.Exchange(ref started, 1) == 1) return;
        for (var worker = 0; worker < WorkerCount; worker++)
            new Thread(WorkerLoop) { IsBackground = true, Name = $"Pipelines compute {worker + 1}" }.Start();
    }

    private static void WorkerLoop()
    {
        var seen = Volatile.Read(ref state) >> 32;
        while (true)
        {
            var generation = WaitForJob(seen);
            seen = generation;
            // The job's fields were written before its generation was published; a stale read fails the claim.
            var work = Volatile.Read(ref job);
            var chunks = Volatile.Read(ref chunkCount);
            if (work is not null) Participate(generation, work, chunks);
        }
    }

    /// <summary>Polls for a generation newer than <paramref name="seen"/>, then sleeps until one is published.</summary>
    private static long WaitForJob(long seen)
    {
        var deadline = Stopwatch.GetTimestamp() + SpinTicks;
        var spinner = new SpinWait();
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var generation = Volatile.Read(ref state) >> 32;
            if (generation != seen) return generation;
            spinner.SpinOnce(sleep1Threshold: -1);
        }

        lock (Gate)
        {
            Interlocked.Increment(ref sleepers); // a full fence: the publisher sees us, or we see its generation
            try
            {
                while (true)
                {
                    var generation = Volatile.Read(ref state) >> 32;
                    if (generation != seen) return generation;
                    Monitor.Wait(Gate);
                }
            }
            finally
            {
                Interlocked.Decrement(ref sleepers);
            }
        }
    }
}

/// <summary>A job for <see cref="WorkerPool"/>: chunk i of a fixed partition.</summary>
internal interface IChunkJob
{
    /// <summary>Runs chunk <paramref name="chunk"/>.</summary>
    void RunChunk(int chunk);
}
