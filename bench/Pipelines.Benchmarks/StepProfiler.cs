using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using LinearKernel = Pipelines.Components.Kernels.Linear;

namespace Pipelines.Benchmarks;

/// <summary>
/// Where a training step's time goes: forward, backward and optimizer as a whole, then each kernel on the
/// step's own shapes, timed in isolation (best of several runs) and multiplied by how often a step calls it.
/// </summary>
internal static class StepProfiler
{
    private const int Repetitions = 5;

    public static void Profile(GptModel model, IOptimizer optimizer, int[] inputs, int[] targets, int batch, int context)
    {
        var forward = Best(() => model.Forward(inputs, targets, batch, context));
        var backward = Best(() => { model.Parameters.ZeroGradients(model.Parallelism); model.Backward(); });
        var update = Best(() => optimizer.Step(model.Parameters));
        var zeroing = Best(() => model.Parameters.ZeroGradients(model.Parallelism));
        Console.WriteLine($"phase forward_ms={forward:F1} backward_ms={backward:F1} (incl. zeroing) optimizer_ms={update:F1} zeroing_ms={zeroing:F2}");

        var config = model.Config;
        var parallelism = model.Parallelism;
        var rows = batch * context;
        var (channels, hidden, vocabulary, layers) = (config.Channels, config.HiddenChannels, config.VocabularySize, config.LayerCount);
        var normOutput = new float[rows * channels];
        var table = new List<(string Name, double Milliseconds)>();

        void Linear(string name, int inChannels, int outChannels, bool bias, int callsPerStep)
        {
            var input = Filled(rows * inChannels);
            var weight = Filled(outChannels * inChannels);
            var biasValues = bias ? Filled(outChannels) : [];
            var output = new float[rows * outChannels];
            var inputGradient = new float[rows * inChannels];
            var weightGradient = new float[outChannels * inChannels];
            var biasGradient = bias ? new float[outChannels] : [];
            var forwardTime = Best(() => LinearKernel.Forward(input, weight, biasValues, output, rows, inChannels, outChannels, parallelism));
            var backwardTime = Best(() => LinearKernel.Backward(output, input, weight, inputGradient, weightGradient, biasGradient, rows, inChannels, outChannels, parallelism));
            table.Add(($"linear {name} fwd ({inChannels}->{outChannels}) x{callsPerStep}", forwardTime * callsPerStep));
            table.Add(($"linear {name} bwd ({inChannels}->{outChannels}) x{callsPerStep}", backwardTime * callsPerStep));
        }

        Linear("qkv", channels, 3 * channels, true, layers);
        Linear("proj", channels, channels, true, layers);
        Linear("fc", channels, hidden, true, layers);
        Linear("out", hidden, channels, true, layers);
        Linear("head", channels, vocabulary, false, 1);

        var qkv = Filled(rows * 3 * channels);
        var attentionOutput = new float[rows * channels];
        var probabilities = new float[batch * config.HeadCount * context * context];
        var qkvGradient = new float[rows * 3 * channels];
        table.Add(($"attention fwd x{layers}", layers * Best(() => Attention.Forward(qkv, ReadOnlySpan<byte>.Empty, attentionOutput, probabilities, batch, context, channels, config.HeadCount, true, parallelism))));
        table.Add(($"attention bwd x{layers}", layers * Best(() => Attention.Backward(attentionOutput, qkv, probabilities, qkvGradient, batch, context, channels, config.HeadCount, parallelism))));

        var normInput = Filled(rows * channels);
        var scale = Filled(channels);
        var shift = Filled(channels);
        var mean = new float[rows];
        var deviation = new float[rows];
        var scaleGradient = new float[channels];
        var shiftGradient = new float[channels];
        var norms = 2 * layers + 1;
        table.Add(($"layernorm fwd x{norms}", norms * Best(() => LayerNorm.Forward(normInput, scale, shift, normOutput, mean, deviation, rows, channels, parallelism))));
        table.Add(($"layernorm bwd x{norms}", norms * Best(() => LayerNorm.Backward(normOutput, normInput, scale, mean, deviation, normInput, scaleGradient, shiftGradient, rows, channels, parallelism))));

        var geluInput = Filled(rows * hidden);
        var geluOutput = new float[rows * hidden];
        var geluGradient = new float[rows * hidden];
        table.Add(($"gelu fwd x{layers}", layers * Best(() => Gelu.Forward(geluInput, geluOutput, rows * hidden, parallelism))));
        table.Add(($"gelu bwd x{layers}", layers * Best(() => Gelu.Backward(geluOutput, geluInput, geluGradient, rows * hidden, parallelism))));

        var logits = Filled(rows * vocabulary);
        var softmax = new float[rows * vocabulary];
        var losses = new float[rows];
        var lossGradients = Enumerable.Repeat(1f / rows, rows).ToArray();
        var logitsGradient = new float[rows * vocabulary];
        table.Add(("softmax-ce fwd", Best(() => SoftmaxCrossEntropy.Forward(logits, targets, softmax, losses, rows, vocabulary, parallelism))));
        table.Add(("softmax-ce bwd", Best(() => SoftmaxCrossEntropy.Backward(softmax, targets, lossGradients, logitsGradient, rows, vocabulary, parallelism))));

        var total = table.Sum(entry => entry.Milliseconds);
        foreach (var (name, milliseconds) in table.OrderByDescending(entry => entry.Milliseconds))
            Console.WriteLine($"  {name,-40} {milliseconds,8:F2} ms  {100 * milliseconds / total,5:F1}%");
        Console.WriteLine($"  {"sum of kernels",-40} {total,8:F2} ms; step (fwd+bwd+opt) {forward + backward + update:F1} ms");
    }

    private static float[] Filled(int length)
    {
        var values = new float[length];
        new SeededRandom((ulong)length).FillGaussian(values, 0, 0.5);
        return values;
    }

    private static double Best(Action action)
    {
        action();
        var best = double.MaxValue;
        for (var repetition = 0; repetition < Repetitions; repetition++)
        {
            var start = Timing.Now();
            action();
            best = Math.Min(best, (Timing.Now() - start) * 1e3);
        }

        return best;
    }
}
