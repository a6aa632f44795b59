using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;

namespace Pipelines.Benchmarks;

/// <summary>
/// GFLOP/s of C = A·B (compare with bench/torch_gemm_ref.py). Options: --sizes n... (square, default
/// 256 512 1024), --shape m n k (one rectangular product instead), --transposeA, --transposeB, --accumulate (beta = 1),
/// --threads t... (default 1 2), --repetitions r.
/// </summary>
internal static class GemmBenchmark
{
    public static void Run(string[] options)
    {
        var sizes = Timing.IntegersOption(options, "--sizes", [256, 512, 1024]);
        var shape = Timing.IntegersOption(options, "--shape", []);
        var threadCounts = Timing.IntegersOption(options, "--threads", [1, 2]);
        var repetitions = Timing.IntegersOption(options, "--repetitions", [7])[0];
        var transposeA = options.Contains("--transposeA");
        var transposeB = options.Contains("--transposeB");
        var beta = options.Contains("--accumulate") ? 1f : 0f;
        var shapes = shape.Length == 3 ? [(shape[0], shape[1], shape[2])] : sizes.Select(n => (n, n, n)).ToArray();
        foreach (var threads in threadCounts)
        {
            var parallelism = new Parallelism(threads);
            foreach (var (m, n, k) in shapes)
            {
                var a = Timing.RandomArray(m * k, m);
                var b = Timing.RandomArray(k * n, n + 1);
                var c = new float[m * n];
                var (leadingA, leadingB) = (transposeA ? m : k, transposeB ? k : n);
                var seconds = Timing.BestSeconds(() => Gemm.Multiply(a, leadingA, transposeA, b, leadingB, transposeB, c, n, m, n, k, 1f, beta, parallelism), repetitions);
                var name = m == n && n == k ? $"n={n,5}" : $"m={m} n={n} k={k}";
                Console.WriteLine($"gemm {name} threads={threads} {2.0 * m * n * k / seconds / 1e9,8:F1} GFLOP/s");
            }
        }
    }
}
