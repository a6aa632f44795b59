using System.Diagnostics;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.TorchSharp;
using static TorchSharp.torch;

namespace Pipelines.Benchmarks.TorchSharp;

/// <summary>
/// The peer a TorchSharp user would write: <see cref="PlainGpt"/>, <c>torch.optim.AdamW</c> (decay 0.01 on matrices
/// only, as the engine's <c>Optimizers.AdamW</c>), forward, cross-entropy, backward, step, each step in its own dispose
/// scope. The engine's seed-0 initial weights are copied in by name (the one use of this project's TorchSharp code), so
/// the first loss equals the engine's on the same fixed batch.
/// </summary>
internal static class PlainLoop
{
    public static string Run(BenchmarkSettings settings)
    {
        var target = device(settings.Device);
        var managed = GptModel.Create(settings.Config, seed: 0, Parallelism.Sequential);
        using var model = new PlainGpt(settings.Layers, settings.Heads, settings.Width, settings.Context, settings.Vocabulary, target);
        model.LoadFrom(managed.Parameters); // by name; throws listing every mismatch, so the architectures must agree
        var parameters = model.parameters().ToArray();
        using var optimizer = optim.AdamW(
        [
            new global::TorchSharp.Modules.AdamW.ParamGroup(parameters.Where(parameter => parameter.dim() >= 2), new global::TorchSharp.Modules.AdamW.Options { weight_decay = 0.01 }),
            new global::TorchSharp.Modules.AdamW.ParamGroup(parameters.Where(parameter => parameter.dim() < 2), new global::TorchSharp.Modules.AdamW.Options { weight_decay = 0 }),
        ], lr: BenchmarkSettings.LearningRate);

        var (inputValues, targetValues) = settings.FixedBatch();
        using var inputs = tensor(inputValues, [settings.Batch, settings.Context], device: target);
        using var targets = tensor(targetValues, [settings.Batch, settings.Context], device: target);

        float Step()
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var logits = model.forward(inputs);
            var loss = nn.functional.cross_entropy(logits.reshape(-1, settings.Vocabulary), targets.reshape(-1));
            loss.backward();
            optimizer.step();
            return loss.item<float>(); // waits for the step, as the engine's synchronous step does
        }

        var firstLoss = Step();
        for (var warmup = 1; warmup < BenchmarkSettings.WarmupSteps; warmup++) Step();
        var best = double.MaxValue;
        var lastLoss = 0f;
        for (var round = 0; round < settings.Rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            for (var step = 0; step < settings.Steps; step++) lastLoss = Step();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }

        var parameterCount = parameters.Sum(parameter => parameter.numel());
        return settings.Report("plain", parameterCount, best, lastLoss) + FormattableString.Invariant($" first_loss={firstLoss:F4}");
    }
}
