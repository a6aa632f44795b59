using System.CommandLine;
using Pipelines.Benchmarks.TorchSharp;
using static TorchSharp.torch;

// GPT training throughput on TorchSharp (libtorch 2.10), two peers of `Pipelines.Benchmarks train` on the same work
// (reference configuration, seed-0 initialisation of the engine, AdamW 3e-4, batch 8 x 128 tokens):
//   plain    a plain TorchSharp loop with its own minimal modules and torch.optim.AdamW (what a TorchSharp user writes)
//   backend  our TorchSharp backend through the public boundary: TorchSharpBackend.CreateLanguageModel(...).Train(run)
// Each prints one key=value line (tokens_per_s, step_ms, threads, peak_rss_mb, ...); bench/compare.sh divides them.
//   dotnet bench/Pipelines.Benchmarks.TorchSharp/bin/Release/net10.0/Pipelines.Benchmarks.TorchSharp.dll plain|backend
//       [--steps 20] [--rounds 1] [--threads 2] [--device cpu] [--layers 4 --heads 4 --dim 256 --ctx 128 --vocab 2048 --batch 8]
var layers = Integer("--layers", 4, "Transformer blocks.");
var heads = Integer("--heads", 4, "Attention heads.");
var width = Integer("--dim", 256, "Channels (width).");
var context = Integer("--ctx", 128, "Context length, the tokens of each sequence.");
var vocabulary = Integer("--vocab", 2048, "Vocabulary size.");
var batch = Integer("--batch", 8, "Sequences per step.");
var steps = Integer("--steps", 20, "Timed steps per round (after 3 warm-up steps).");
var rounds = Integer("--rounds", 1, "Rounds of timed steps; the fastest counts.");
var threads = Integer("--threads", Environment.ProcessorCount, "libtorch's intra-op threads.");
var deviceName = new Option<string>("--device") { Description = "The libtorch device.", DefaultValueFactory = _ => "cpu", Recursive = true };

var root = new RootCommand("GPT training throughput on TorchSharp: a plain TorchSharp loop, or our backend through its public boundary.")
{
    layers, heads, width, context, vocabulary, batch, steps, rounds, threads, deviceName,
};
root.Subcommands.Add(Mode("plain", "A plain TorchSharp loop: its own minimal GPT modules and torch.optim.AdamW.", PlainLoop.Run));
root.Subcommands.Add(Mode("backend", "Our TorchSharp backend through ITrainingBackend and the one TrainingLoop.", BackendLoop.Run));
return root.Parse(args).Invoke();

Command Mode(string name, string description, Func<BenchmarkSettings, string> run)
{
    var command = new Command(name, description);
    command.SetAction(parsed =>
    {
        var settings = new BenchmarkSettings(parsed.GetValue(layers), parsed.GetValue(heads), parsed.GetValue(width), parsed.GetValue(context),
            parsed.GetValue(vocabulary), parsed.GetValue(batch), parsed.GetValue(steps), parsed.GetValue(rounds), parsed.GetValue(threads), parsed.GetValue(deviceName)!);
        set_num_threads(settings.Threads);
        Console.WriteLine(run(settings));
        return 0;
    });
    return command;
}

Option<int> Integer(string name, int fallback, string description)
{
    var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => fallback, Recursive = true };
    option.Validators.Add(result =>
    {
        if (result.GetValueOrDefault<int>() < 1) result.AddError($"{name} must be at least 1, not {result.GetValueOrDefault<int>()}.");
    });
    return option;
}
