using System.Globalization;
using Pipelines.Components.Compute;
using Pipelines.Components.Lora;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Training;

namespace Pipelines.Benchmarks;

/// <summary>
/// A LoRA fine-tuning step against a full fine-tuning step of the same GPT on the reference configuration (4 layers, 4 heads,
/// width 256, context 128, vocabulary 2,048, batch 8), in alternating rounds; prints each round's ratio and the median.
/// </summary>
/// <remarks>
/// The full step is the training benchmark's (zero gradients, forward, backward, AdamW over the arena). The LoRA step is what
/// the text classifier's <c>Adaptation = LoRA</c> runs: the base frozen (backward skips its weight gradients), the base
/// optimizer an <see cref="AdaptedBaseUpdate"/> (masked AdamW, frozen slices zeroed), and AdamW over the adapter's own arena
/// (<see cref="LoraTrainingHook"/>); adapters of rank r (default 8, alpha 16) on all four projections of every layer.
/// <c>--selective</c> puts the adapters on the top half of the layers only (as diagnose-first selective LoRA typically injects);
/// the backward stops at the lowest adapted layer (<see cref="LoraModel.TruncateBackward"/>) unless <c>--no-truncation</c>.
/// <c>--frozen-only</c> deactivates the adapter, timing the frozen base's step alone.
/// </remarks>
internal static class LoraStepBenchmark
{
    public static void Run(string[] arguments)
    {
        var shape = BenchmarkModel.Read(arguments, width: 256, context: 128, vocabulary: 2048, batch: 8);
        var (config, batch) = (shape.Config, shape.Batch);
        var (layers, context, vocabulary) = (config.LayerCount, config.ContextLength, config.VocabularySize);
        var steps = TrainingBenchmark.Option(arguments, "--steps", 10);
        var rounds = TrainingBenchmark.Option(arguments, "--rounds", 5);
        var rank = TrainingBenchmark.Option(arguments, "--rank", 8);
        var threads = TrainingBenchmark.Option(arguments, "--threads", Environment.ProcessorCount);

        var random = new SeededRandom(0);
        var inputs = new int[batch * context];
        var targets = new int[batch * context];
        for (var index = 0; index < inputs.Length; index++)
        {
            inputs[index] = random.NextInt32(vocabulary);
            targets[index] = random.NextInt32(vocabulary);
        }

        var full = GptModel.Create(config, seed: 0, new Parallelism(threads));
        var fullOptimizer = new GradientTransformOptimizer(Optimizers.AdamW(3e-4), full.Parameters);
        float FullStep()
        {
            full.Parameters.ZeroGradients();
            var loss = full.Forward(inputs, targets, batch, context);
            full.Backward();
            fullOptimizer.Step(full.Parameters);
            return loss;
        }

        var adapted = GptModel.Create(config, seed: 0, new Parallelism(threads));
        var selective = arguments.Contains("--selective");
        var adaptedLayers = selective ? Enumerable.Range(layers / 2, layers - layers / 2) : Enumerable.Range(0, layers);
        var plan = LoraInjectionPlan.Uniform(adaptedLayers, rank, alpha: 16, LoraProjections.All);
        var lora = new LoraModel(adapted) { TruncateBackward = !arguments.Contains("--no-truncation") };
        var adapter = lora.Add("bench", plan, seed: 1);
        var baseOptimizer = new GradientTransformOptimizer(new AdaptedBaseUpdate(Optimizers.AdamW(3e-4), plan.ToJson(), adapted.IsTrainable), adapted.Parameters);
        var hook = new LoraTrainingHook(adapter, Optimizers.AdamW(3e-4));
        if (arguments.Contains("--frozen-only")) lora.Deactivate(); // the frozen base alone: what the adapters' own products cost
        var step = 0L;
        float LoraStep()
        {
            adapted.Parameters.ZeroGradients();
            var loss = adapted.Forward(inputs, targets, batch, context);
            adapted.Backward();
            hook.AfterBackward(step, adapted.Parameters);
            baseOptimizer.Step(adapted.Parameters);
            hook.AfterUpdate(step++, adapted.Parameters, baseOptimizer);
            return loss;
        }

        for (var warmup = 0; warmup < 3; warmup++)
        {
            FullStep();
            LoraStep();
        }

        if (arguments.Contains("--profile"))
        {
            ProfilePhases("full", full, () => fullOptimizer.Step(full.Parameters), inputs, targets, batch, context);
            ProfilePhases("lora", adapted, () =>
            {
                hook.AfterBackward(step, adapted.Parameters);
                baseOptimizer.Step(adapted.Parameters);
                hook.AfterUpdate(step++, adapted.Parameters, baseOptimizer);
            }, inputs, targets, batch, context);
            ProfileAdapter(adapter, batch * context, adapted.Parallelism);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"lora rank={rank} threads={threads} layers_adapted={string.Join(',', adaptedLayers)} truncate_backward={lora.TruncateBackward} full_params={full.Parameters.ParameterCount} adapter_params={adapter.Parameters.ParameterCount} steps_per_round={steps}"));
        var ratios = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            var fullSeconds = Time(FullStep, steps);
            var loraSeconds = Time(LoraStep, steps);
            ratios.Add(loraSeconds / fullSeconds);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round + 1}: full_step_ms={fullSeconds / steps * 1e3:F1} lora_step_ms={loraSeconds / steps * 1e3:F1} ratio={loraSeconds / fullSeconds:F3}"));
        }

        var sorted = ratios.Order().ToArray();
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median_ratio={median:F3} (LoRA step / full step, {rounds} alternating rounds)"));
    }

    // Each phase's best of 5 (CPU or wall time as --cpu says), so the split shows where the LoRA step still spends its time.
    private static void ProfilePhases(string name, GptModel model, Action update, int[] inputs, int[] targets, int batch, int context)
    {
        var zero = Best(() => model.Parameters.ZeroGradients());
        var forward = Best(() => model.Forward(inputs, targets, batch, context));
        var backward = Best(() => model.Backward());
        var optimizer = Best(update);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"profile {name}: zero_ms={zero:F2} forward_ms={forward:F1} backward_ms={backward:F1} update_ms={optimizer:F2} sum_ms={zero + forward + backward + optimizer:F1}"));
    }

    // The adapter's own products on the step's shapes, all modules, forward and backward (with the input gradient).
    private static void ProfileAdapter(LoraAdapter adapter, int rows, Parallelism parallelism)
    {
        var forward = 0.0;
        var backward = 0.0;
        foreach (var module in adapter.Modules)
        {
            var input = new float[rows * module.InChannels];
            var output = new float[rows * module.OutChannels];
            var hidden = new float[rows * module.Rank];
            var hiddenGradient = new float[rows * module.Rank];
            var inputGradient = new float[rows * module.InChannels];
            var down = adapter.Parameters.ValuesOf(module.Down).ToArray();
            var up = adapter.Parameters.ValuesOf(module.Up).ToArray();
            var downGradient = new float[down.Length];
            var upGradient = new float[up.Length];
            new SeededRandom(1).FillGaussian(input, 0, 1);
            new SeededRandom(2).FillGaussian(output, 0, 1);
            forward += Best(() => LowRankUpdate.Forward(input, down, up, module.Scale, hidden, output, rows, module.InChannels, module.OutChannels, module.Rank, parallelism));
            backward += Best(() => LowRankUpdate.Backward(output, input, down, up, module.Scale, hidden, hiddenGradient, inputGradient, downGradient, upGradient,
                rows, module.InChannels, module.OutChannels, module.Rank, parallelism));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"profile adapter products ({adapter.Modules.Count} modules): forward_ms={forward:F2} backward_ms={backward:F2}"));
    }

    private static double Best(Action action)
    {
        action();
        var best = double.MaxValue;
        for (var repetition = 0; repetition < 5; repetition++)
        {
            var start = Timing.Now();
            action();
            best = Math.Min(best, (Timing.Now() - start) * 1e3);
        }

        return best;
    }

    private static double Time(Func<float> step, int steps)
    {
        var start = Timing.Now();
        for (var index = 0; index < steps; index++) step();
        return Timing.Now() - start;
    }
}
