using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Pipelines.Benchmarks;

/// <summary>
/// Best-of timing: the machine is shared, so the fastest repetition is the least disturbed one. With
/// <c>--cpu</c> the process's CPU time is used instead of wall time, which ignores time spent descheduled
/// (handy for tuning on a busy machine; the wall-time figures are the ones to compare with PyTorch).
/// </summary>
internal static partial class Timing
{
    private const int ProcessCpuTimeClock = 2; // CLOCK_PROCESS_CPUTIME_ID

    public static bool UseCpuTime { get; set; }

    /// <summary>Now, in seconds: process CPU time with <c>--cpu</c>, else wall time.</summary>
    public static double Now() => UseCpuTime ? CpuSeconds() : Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

    /// <summary>Seconds per call of <paramref name="action"/>: the best of <paramref name="repetitions"/> runs of at least <paramref name="minimumSeconds"/> each, after a warm-up.</summary>
    public static double BestSeconds(Action action, int repetitions = 7, double minimumSeconds = 0.2)
    {
        action();
        var best = double.MaxValue;
        for (var repetition = 0; repetition < repetitions; repetition++)
        {
            var calls = 0;
            var watch = Stopwatch.StartNew();
            var cpuStart = CpuSeconds();
            do
            {
                action();
                calls++;
            }
            while (watch.Elapsed.TotalSeconds < minimumSeconds);
            var seconds = UseCpuTime ? CpuSeconds() - cpuStart : watch.Elapsed.TotalSeconds;
            best = Math.Min(best, seconds / calls);
        }

        return best;
    }

    /// <summary>Reads "--name value..." from <paramref name="options"/>, or <paramref name="fallback"/>.</summary>
    public static int[] IntegersOption(string[] options, string name, int[] fallback)
    {
        var index = Array.IndexOf(options, name);
        if (index < 0) return fallback;
        return options.Skip(index + 1).TakeWhile(value => !value.StartsWith("--", StringComparison.Ordinal)).Select(int.Parse).ToArray();
    }

    /// <summary>Seeded uniform(-1, 1) values.</summary>
    public static float[] RandomArray(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (var index = 0; index < length; index++) values[index] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    /// <summary>Seconds of CPU time this process has used (all threads).</summary>
    public static double CpuSeconds()
    {
        if (!OperatingSystem.IsLinux()) return Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        ClockGetTime(ProcessCpuTimeClock, out var time);
        return time.Seconds + time.Nanoseconds * 1e-9;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);
}
