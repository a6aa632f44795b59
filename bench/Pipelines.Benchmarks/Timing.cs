using System.Diagnostics;

namespace Pipelines.Benchmarks;

/// <summary>Best-of timing: the machine is shared, so the fastest repetition is the least disturbed one.</summary>
internal static class Timing
{
    /// <summary>Seconds per call of <paramref name="action"/>: the best of <paramref name="repetitions"/> runs of at least <paramref name="minimumSeconds"/> each, after a warm-up.</summary>
    public static double BestSeconds(Action action, int repetitions = 7, double minimumSeconds = 0.2)
    {
        action();
        var best = double.MaxValue;
        for (var repetition = 0; repetition < repetitions; repetition++)
        {
            var calls = 0;
            var watch = Stopwatch.StartNew();
            do
            {
                action();
                calls++;
            }
            while (watch.Elapsed.TotalSeconds < minimumSeconds);
            best = Math.Min(best, watch.Elapsed.TotalSeconds / calls);
        }

        return best;
    }

    /// <summary>Reads "--name value" from <paramref name="options"/>, or <paramref name="fallback"/>.</summary>
    public static int[] IntegersOption(string[] options, string name, int[] fallback)
    {
        var index = Array.IndexOf(options, name);
        if (index < 0) return fallback;
        return options.Skip(index + 1).TakeWhile(value => !value.StartsWith("--", StringComparison.Ordinal)).Select(int.Parse).ToArray();
    }

    public static float[] RandomArray(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (var index = 0; index < length; index++) values[index] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
