using System.Diagnostics;
using System.Globalization;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.TorchSharp;
using Pipelines.Components.TorchSharp.Optimization;
using static TorchSharp.torch;

// GPT training throughput of the TorchSharp backend on the reference configuration (4 layers, 4 heads, width 256,
// context 128, vocabulary 2,048, batch 8 = 1,024 tokens/step, AdamW 3e-4), with the same options, seed-0 GPT-2
// initialisation and fixed random batch as `Pipelines.Benchmarks train`, so the two tokens/s figures divide into a
// fair ratio. A plain loop: forward, cross-entropy, backward, TorchAdamW step, each step in its own dispose scope.
//   dotnet bench/Pipelines.Benchmarks.TorchSharp/bin/Release/net10.0/Pipelines.Benchmarks.TorchSharp.dll
//       [--steps 20] [--threads t] [--rounds r] [--device cpu] [--layers 4 --heads 4 --dim 256 --ctx 128 --vocab 2048 --batch 8]
var layers = Option("--layers", 4);
var heads = Option("--heads", 4);
var width = Option("--dim", 256);
var context = Option("--ctx", 128);
var vocabulary = Option("--vocab", 2048);
var batch = Option("--batch", 8);
var steps = Option("--steps", 20);
var threads = Option("--threads", Environment.ProcessorCount);
var rounds = Option("--rounds", 1);
var deviceIndex = Array.IndexOf(args, "--device");
var device = TorchDevices.Resolve(deviceIndex >= 0 && deviceIndex + 1 < args.Length ? args[deviceIndex + 1] : "cpu");
set_num_threads(threads);

var config = new TransformerConfig(layers, heads, width, context, vocabulary);
var managed = GptModel.Create(config, seed: 0, new Parallelism(1)); // the engine's initialisation, then moved across
using var model = new TorchGptModel(config, device);
model.LoadFrom(managed.Parameters);
using var optimizer = new TorchOptimizer(model, managed.Parameters, Optimizers.AdamW(new AdamWOptions(3e-4)));

var random = new SeededRandom(0);
var inputValues = new long[batch * context];
var targetValues = new long[batch * context];
for (var index = 0; index < inputValues.Length; index++)
{
    inputValues[index] = random.NextInt32(vocabulary);
    targetValues[index] = random.NextInt32(vocabulary);
}

using var inputs = tensor(inputValues, [batch, context], device: device);
using var targets = tensor(targetValues, [batch, context], device: device);

float Step()
{
    using var scope = NewDisposeScope();
    model.zero_grad();
    var loss = TorchGptModel.Loss(model.forward(inputs), targets);
    loss.backward();
    optimizer.Step();
    return loss.item<float>(); // waits for the step, as the engine's synchronous step does
}

for (var warmup = 0; warmup < 3; warmup++) Step();
var bestSeconds = double.MaxValue;
var lastLoss = 0f;
for (var round = 0; round < rounds; round++)
{
    var watch = Stopwatch.StartNew();
    for (var step = 0; step < steps; step++) lastLoss = Step();
    bestSeconds = Math.Min(bestSeconds, watch.Elapsed.TotalSeconds);
}

var stepSeconds = bestSeconds / steps;
var tokensPerSecond = batch * context / stepSeconds;
var gigaflops = tokensPerSecond * config.TrainingFlopsPerToken(context) / 1e9;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"torchsharp {__version__} device={device} threads={threads} params={managed.Parameters.ParameterCount} step_ms={stepSeconds * 1e3:F1} tokens_per_s={tokensPerSecond:F0} gflops={gigaflops:F1} loss={lastLoss:F3}"));

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
