using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Privacy;

namespace Pipelines.Benchmarks;

/// <summary>
/// One DP-SGD step (batched per-example clipping with ghost norms, seeded Gaussian noise, division by q N, AdamW)
/// against one ordinary AdamW step on the same fixed batch of a small GPT; also the one-pass-per-example route.
/// A measurement, not a test: the goal is a DP/plain ratio of at most 1.3.
/// </summary>
internal static class DpStepBenchmark
{
    public static void Run(string[] arguments)
    {
        var shape = BenchmarkModel.Read(arguments, width: 128, context: 64, vocabulary: 512, batch: 16);
        var (config, batch) = (shape.Config, shape.Batch);
        var (context, vocabulary) = (config.ContextLength, config.VocabularySize);
        var threads = TrainingBenchmark.Option(arguments, "--threads", Environment.ProcessorCount);
        var repetitions = TrainingBenchmark.Option(arguments, "--repetitions", 9);
        var perExample = arguments.Contains("--per-example");

        var random = new SeededRandom(0);
        var sequences = Enumerable.Range(0, 1000).Select(_ => Enumerable.Range(0, context + 1).Select(_ => random.NextInt32(vocabulary)).ToArray()).ToList();
        var examples = Enumerable.Range(0, batch).ToArray();
        var inputs = examples.SelectMany(example => sequences[example][..^1]).ToArray();
        var targets = examples.SelectMany(example => sequences[example][1..]).ToArray();

        var plainModel = GptModel.Create(config, seed: 0, new Parallelism(threads));
        var plainOptimizer = new GradientTransformOptimizer(Optimizers.AdamW(3e-4), plainModel.Parameters);
        void PlainStep()
        {
            plainModel.Parameters.ZeroGradients();
            plainModel.Forward(inputs, targets, batch, context);
            plainModel.Backward();
            plainOptimizer.Step(plainModel.Parameters);
        }

        var dpModel = GptModel.Create(config, seed: 0, new Parallelism(threads));
        var groups = ClippingGroups.Flat(1.0);
        var clipping = new GptPerExampleClipping(dpModel, groups, sequences);
        var samplingRate = (double)batch / sequences.Count;
        var dpOptimizer = new GradientTransformOptimizer(
            new Chain(PrivacyTransforms.NoisyAverage(groups, 1.0, samplingRate, sequences.Count, NoiseRandomness.Seeded, seed: 1), Optimizers.AdamW(3e-4)),
            dpModel.Parameters);
        void DpStep()
        {
            dpModel.Parameters.ZeroGradients();
            clipping.AddClippedGradients(examples);
            dpOptimizer.Step(dpModel.Parameters);
        }

        // The machine is shared: alternate the two and keep each one's best, so both see the same load.
        var (plain, dp) = (double.MaxValue, double.MaxValue);
        for (var round = 0; round < repetitions; round++)
        {
            plain = Math.Min(plain, Timing.BestSeconds(PlainStep, repetitions: 1));
            dp = Math.Min(dp, Timing.BestSeconds(DpStep, repetitions: 1));
        }

        // Where the difference goes: the optimizer steps alone (noise for every parameter is part of the DP one).
        var (plainUpdate, dpUpdate) = (double.MaxValue, double.MaxValue);
        for (var round = 0; round < repetitions; round++)
        {
            plainUpdate = Math.Min(plainUpdate, Timing.BestSeconds(() => plainOptimizer.Step(plainModel.Parameters), repetitions: 1, minimumSeconds: 0.05));
            dpUpdate = Math.Min(dpUpdate, Timing.BestSeconds(() => dpOptimizer.Step(dpModel.Parameters), repetitions: 1, minimumSeconds: 0.05));
        }

        Console.WriteLine($"{shape}, {threads} threads");
        Console.WriteLine($"plain step        {plain * 1e3,9:F1} ms");
        Console.WriteLine($"DP step (ghost)   {dp * 1e3,9:F1} ms   ratio {dp / plain:F2}");
        Console.WriteLine($"  optimizer alone: plain {plainUpdate * 1e3:F1} ms, DP (noise, average, AdamW) {dpUpdate * 1e3:F1} ms; {plainModel.Parameters.ParameterCount:N0} parameters");
        Console.WriteLine($"  without the noise's cost the ratio is {(dp - dpUpdate + plainUpdate) / plain:F2}");
        if (!perExample) return;

        var clipped = new ClippedGradientSum(dpModel.Parameters, groups);
        var onePassEach = Timing.BestSeconds(() =>
        {
            clipped.Clear();
            foreach (var example in examples)
            {
                dpModel.Parameters.ZeroGradients();
                dpModel.Forward(sequences[example].AsSpan(0, context), sequences[example].AsSpan(1), 1, context);
                dpModel.Backward();
                clipped.Add(dpModel.Parameters.Gradients);
            }

            clipped.CopyTo(dpModel.Parameters.Gradients);
            dpOptimizer.Step(dpModel.Parameters);
        }, Math.Max(1, repetitions / 2));
        Console.WriteLine($"DP step (1/pass)  {onePassEach * 1e3,9:F1} ms   ratio {onePassEach / plain:F2}");
    }
}
