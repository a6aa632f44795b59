using System.Globalization;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;

namespace Pipelines.Benchmarks.TorchSharp;

/// <summary>
/// One run's settings: the reference configuration of <c>Pipelines.Benchmarks train</c> and
/// <c>shared/bench/torch_gpt_ref.py</c> by default (4 layers, 4 heads, width 256, context 128, vocabulary 2,048,
/// batch 8 = 1,024 tokens per step), the steps timed after <see cref="WarmupSteps"/>, best of <see cref="Rounds"/>.
/// </summary>
internal sealed record BenchmarkSettings(int Layers, int Heads, int Width, int Context, int Vocabulary, int Batch, int Steps, int Rounds, int Threads, string Device)
{
    /// <summary>Steps run before timing, as the engine's benchmark does.</summary>
    public const int WarmupSteps = 3;

    /// <summary>AdamW's rate in every peer.</summary>
    public const double LearningRate = 3e-4;

    private static string TorchVersion => global::TorchSharp.torch.__version__;

    public TransformerConfig Config => new(Layers, Heads, Width, Context, Vocabulary);

    public int TokensPerStep => Batch * Context;

    /// <summary>The engine benchmark's fixed batch: inputs then targets, uniform ids from <c>SeededRandom(0)</c>, interleaved.</summary>
    public (long[] Inputs, long[] Targets) FixedBatch()
    {
        var random = new SeededRandom(0);
        var inputs = new long[TokensPerStep];
        var targets = new long[TokensPerStep];
        for (var index = 0; index < inputs.Length; index++)
        {
            inputs[index] = random.NextInt32(Vocabulary);
            targets[index] = random.NextInt32(Vocabulary);
        }

        return (inputs, targets);
    }

    /// <summary>The run's line, in the engine's <c>key=value</c> style, from the best round's seconds.</summary>
    public string Report(string peer, long parameters, double bestRoundSeconds, double loss)
    {
        var stepSeconds = bestRoundSeconds / Steps;
        var tokensPerSecond = TokensPerStep / stepSeconds;
        var gigaflops = tokensPerSecond * Config.TrainingFlopsPerToken(Context) / 1e9;
        return string.Create(CultureInfo.InvariantCulture,
            $"{peer} torchsharp={TorchVersion} device={Device} threads={Threads} layers={Layers} dim={Width} ctx={Context} params={parameters} step_ms={stepSeconds * 1e3:F1} tokens_per_s={tokensPerSecond:F0} gflops={gigaflops:F1} peak_rss_mb={PeakResidentMegabytes():F0} loss={loss:F3}");
    }

    /// <summary>The process's peak resident set (VmHWM of /proc/self/status), in MiB; NaN where there is no /proc.</summary>
    public static double PeakResidentMegabytes()
    {
        const string Path = "/proc/self/status";
        if (!File.Exists(Path)) return double.NaN;
        var line = File.ReadLines(Path).FirstOrDefault(text => text.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? double.NaN : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }
}
