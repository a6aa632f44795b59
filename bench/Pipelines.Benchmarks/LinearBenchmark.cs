using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;

namespace Pipelines.Benchmarks;

/// <summary>Linear forward and backward GFLOP/s on the training benchmark's shapes (rows 1024).</summary>
internal static class LinearBenchmark
{
    private static readonly (int In, int Out)[] Shapes = [(256, 768), (256, 256), (256, 1024), (1024, 256), (256, 2048)];

    public static void Run(string[] options)
    {
        var threadCounts = Timing.IntegersOption(options, "--threads", [1, 2]);
        var repetitions = Timing.IntegersOption(options, "--repetitions", [7])[0];
        const int rows = 1024;
        foreach (var threads in threadCounts)
        {
            var parallelism = new Parallelism(threads);
            foreach (var (inChannels, outChannels) in Shapes)
            {
                var input = Timing.RandomArray(rows * inChannels, 1);
                var weight = Timing.RandomArray(outChannels * inChannels, 2);
                var bias = Timing.RandomArray(outChannels, 3);
                var output = new float[rows * outChannels];
                var outputGradient = Timing.RandomArray(rows * outChannels, 4);
                var inputGradient = new float[rows * inChannels];
                var weightGradient = new float[outChannels * inChannels];
                var biasGradient = new float[outChannels];
                var flops = 2.0 * rows * inChannels * outChannels;
                var forward = Timing.BestSeconds(() => Linear.Forward(input, weight, bias, output, rows, inChannels, outChannels, parallelism), repetitions);
                var backward = Timing.BestSeconds(() => Linear.Backward(outputGradient, input, weight, inputGradient, weightGradient, biasGradient, rows, inChannels, outChannels, parallelism), repetitions);
                Console.WriteLine($"linear rows={rows} in={inChannels,5} out={outChannels,5} threads={threads} forward {flops / forward / 1e9,8:F1} GFLOP/s  backward {2 * flops / backward / 1e9,8:F1} GFLOP/s");
            }
        }
    }
}
