namespace Pipelines.Components.Compute;

/// <summary>
/// How many threads a kernel may use. Passed explicitly (there is no global default), and work is split
/// into a fixed number of contiguous chunks so that results depend on the thread count only, never on
/// scheduling: the same seed and thread count give the same bits.
/// </summary>
public readonly record struct Parallelism
{
    /// <summary>Creates a setting for <paramref name="threadCount"/> threads.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threadCount"/> is below 1.</exception>
    public Parallelism(int threadCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        ThreadCount = threadCount;
    }

    /// <summary>Number of threads (at least 1).</summary>
    public int ThreadCount { get => field < 1 ? 1 : field; init; }

    /// <summary>One thread.</summary>
    public static Parallelism Sequential => new(1);

    /// <summary>One thread per processor of this machine.</summary>
    public static Parallelism AllProcessors => new(Environment.ProcessorCount);

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over contiguous chunks covering [0, <paramref name="count"/>),
    /// one chunk per thread (fewer if <paramref name="count"/> is small, and inline when one chunk suffices).
    /// Chunk boundaries depend only on <paramref name="count"/>, <paramref name="minimumChunk"/> and the thread count.
    /// </summary>
    /// <remarks>A lambda that captures variables allocates its closure on every call; hot loops use the
    /// <see cref="For{TState}"/> overload with a <c>static</c> lambda instead.</remarks>
    public void For(int count, Action<int, int> body, int minimumChunk = 1)
    {
        ArgumentNullException.ThrowIfNull(body);
        For(count, body, static (action, start, end) => action(start, end), minimumChunk);
    }

    /// <summary>
    /// Runs <paramref name="body"/>(<paramref name="state"/>, start, end) over contiguous chunks covering
    /// [0, <paramref name="count"/>), with the same chunks as <see cref="For(int, Action{int, int}, int)"/>.
    /// With a <c>static</c> lambda and a struct state this allocates nothing.
    /// </summary>
    /// <remarks>
    /// Chunks run on the calling thread and the process's compute threads (one per extra processor, started on
    /// first use, idle between jobs); which thread runs which chunk never changes a result. When those threads
    /// are busy with another job — a call from inside a body, or from another thread — the chunks run inline,
    /// in order. The first exception a chunk throws is rethrown here once every chunk has finished.
    /// </remarks>
    /// <typeparam name="TState">What the body needs (spans cannot cross threads: pass pointers or arrays).</typeparam>
    public void For<TState>(int count, TState state, Action<TState, int, int> body, int minimumChunk = 1)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (count <= 0) return;
        var chunks = Math.Min(ThreadCount, Math.Max(1, count / Math.Max(1, minimumChunk)));
        if (chunks == 1)
        {
            body(state, 0, count);
            return;
        }

        var job = Interlocked.Exchange(ref ChunkJob<TState>.Spare, null) ?? new ChunkJob<TState>();
        job.Set(state, body, count, chunks);
        try
        {
            WorkerPool.Run(job, chunks);
        }
        finally
        {
            job.Set(default!, null, 0, 0);
            ChunkJob<TState>.Spare = job;
        }
    }

    /// <summary>One call's body, state and partition; one instance per state type is reused between calls.</summary>
    private sealed class ChunkJob<TState> : IChunkJob
    {
        public static ChunkJob<TState>? Spare;

        private TState state = default!;
        private Action<TState, int, int>? body;
        private int count;
        private int chunks;

        public void Set(TState newState, Action<TState, int, int>? newBody, int newCount, int newChunks) =>
            (state, body, count, chunks) = (newState, newBody, newCount, newChunks);

        public void RunChunk(int chunk)
        {
            var start = (int)((long)count * chunk / chunks);
            var end = (int)((long)count * (chunk + 1) / chunks);
            body!(state, start, end);
        }
    }
}
