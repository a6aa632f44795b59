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
    public void For(int count, Action<int, int> body, int minimumChunk = 1)
    {
        if (count <= 0) return;
        var chunks = Math.Min(ThreadCount, Math.Max(1, count / Math.Max(1, minimumChunk)));
        if (chunks == 1)
        {
            body(0, count);
            return;
        }

        System.Threading.Tasks.Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = chunks }, chunk =>
        {
            var start = (int)((long)count * chunk / chunks);
            var end = (int)((long)count * (chunk + 1) / chunks);
            body(start, end);
        });
    }
}
