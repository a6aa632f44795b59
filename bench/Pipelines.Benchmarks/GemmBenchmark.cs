using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;

namespace Pipelines.Benchmarks;

/// <summary>GFLOP/s of square C = A·B (compare with bench/torch_gemm_ref.py).</summary>
internal static class GemmBenchmark
{
    public static void Run(string[] options)
    {
        var sizes = Timing.IntegersOption(options, "--sizes", [256, 512, 1024]);
        var threadCounts = Timing.IntegersOption(options, "--threads", [1, 2]);
        var repetitions = Timing.IntegersOption(options, "--repetitions", [7])[0];
        foreach (var threads in threadCounts)
        {
            var parallelism = new Parallelism(threads);
            foreach (var n in sizes)
            {
                var a = Timing.RandomArray(n * n, n);
                var b = Timing.RandomArray(n * n, n + 1);
                var c = new float[n * n];
                var seconds = Timing.BestSeconds(() => Gemm.Multiply(a, n, false, b, n, false, c, n, n, n, n, 1f, 0f, parallelism), repetitions);
                Console.WriteLine($"gemm n={n,5} threads={threads} {2.0 * n * n * n / seconds / 1e9,8:F1} GFLOP/s");
            }
        }
    }
}
