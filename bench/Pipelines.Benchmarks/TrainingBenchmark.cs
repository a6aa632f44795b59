using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;

namespace Pipelines.Benchmarks;

/// <summary>
/// Training throughput of the engine's GPT on the reference configuration of <c>shared/bench/torch_gpt_ref.py</c>
/// (4 layers, 4 heads, width 256, context 128, vocabulary 2,048, batch 8), AdamW, fixed random batch — the same
/// work the PyTorch peer times, so the two tokens/s figures divide into a fair ratio.
/// </summary>
internal static class TrainingBenchmark
{
    public static void Run(string[] arguments)
    {
        var layers = Option(arguments, "--layers", 4);
        var heads = Option(arguments, "--heads", 4);
        var width = Option(arguments, "--dim", 256);
        var context = Option(arguments, "--ctx", 128);
        var vocabulary = Option(arguments, "--vocab", 2048);
        var batch = Option(arguments, "--batch", 8);
        var steps = Option(arguments, "--steps", 20);
        var threads = Option(arguments, "--threads", Environment.ProcessorCount);
        var rounds = Option(arguments, "--rounds", 1);
        var profile = arguments.Contains("--profile");

        var config = new TransformerConfig(layers, heads, width, context, vocabulary);
        var model = GptModel.Create(config, seed: 0, new Parallelism(threads));
        var optimizer = new GradientTransformOptimizer(Optimizers.AdamW(3e-4), model.Parameters, model.Parallelism);
        var random = new SeededRandom(0);
        var inputs = new int[batch * context];
        var targets = new int[batch * context];
        for (var index = 0; index < inputs.Length; index++)
        {
            inputs[index] = random.NextInt32(vocabulary);
            targets[index] = random.NextInt32(vocabulary);
        }

        float Step()
        {
            model.Parameters.ZeroGradients(model.Parallelism);
            var loss = model.Forward(inputs, targets, batch, context);
            model.Backward();
            optimizer.Step(model.Parameters);
            return loss;
        }

        for (var warmup = 0; warmup < 3; warmup++) Step();
        if (profile) StepProfiler.Profile(model, optimizer, inputs, targets, batch, context);

        GC.Collect();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        // Best of `rounds` rounds of `steps` steps: the machine is shared, the least disturbed round is the fairest.
        var bestSeconds = double.MaxValue;
        var loss = 0f;
        for (var round = 0; round < rounds; round++)
        {
            var start = Timing.Now();
            for (var step = 0; step < steps; step++) loss = Step();
            bestSeconds = Math.Min(bestSeconds, Timing.Now() - start);
        }

        var allocatedPerStep = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)(steps * rounds);

        var stepSeconds = bestSeconds / steps;
        var tokensPerSecond = batch * context / stepSeconds;
        var gigaflops = tokensPerSecond * config.TrainingFlopsPerToken(context) / 1e9;
        Console.WriteLine($"engine threads={threads} clock={(Timing.UseCpuTime ? "cpu" : "wall")} params={model.Parameters.ParameterCount} step_ms={stepSeconds * 1e3:F1} tokens_per_s={tokensPerSecond:F0} gflops={gigaflops:F1} allocated_bytes_per_step={allocatedPerStep:F0} peak_rss_mb={PeakResidentMegabytes():F0} loss={loss:F3}");
    }

    /// <summary>The process's peak resident set (VmHWM of /proc/self/status), in MiB; NaN where there is no /proc.</summary>
    internal static double PeakResidentMegabytes()
    {
        const string Status = "/proc/self/status";
        if (!File.Exists(Status)) return double.NaN;
        var line = File.ReadLines(Status).FirstOrDefault(text => text.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? double.NaN : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
    }

    internal static int Option(string[] arguments, string name, int fallback)
    {
        var index = Array.IndexOf(arguments, name);
        return index >= 0 && index + 1 < arguments.Length ? int.Parse(arguments[index + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    }
}
