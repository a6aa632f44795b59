namespace Pipelines.Experiments;

/// <summary>Runs independent jobs of unequal length over a few threads, each thread taking the next job when it is free.</summary>
/// <remarks>
/// <see cref="PretrainingRun"/>'s run loop splits the work into fixed contiguous chunks, which suits runs of equal
/// length; the headline-claim experiments mix runs of 1x to 4x each other's length, so a shared queue balances them
/// better. Each job depends only on its own inputs, so results do not depend on the thread count.
/// </remarks>
internal static class ExperimentJobs
{
    /// <summary>Runs every job, at most <paramref name="threads"/> at a time, and returns the results in the jobs' order.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is below 1.</exception>
    public static TResult[] Run<TResult>(IReadOnlyList<Func<TResult>> jobs, int threads, Action<TResult>? completed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var results = new TResult[jobs.Count];
        var next = -1;
        var gate = new Lock();
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken };
        Parallel.For(0, Math.Min(threads, jobs.Count), options, _ =>
        {
            for (var index = Interlocked.Increment(ref next); index < jobs.Count; index = Interlocked.Increment(ref next))
            {
                cancellationToken.ThrowIfCancellationRequested();
                results[index] = jobs[index]();
                if (completed is not null)
                    lock (gate) completed(results[index]);
            }
        });
        return results;
    }
}
