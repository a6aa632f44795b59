// QuickStart: one ML.NET chain, a BPE tokenizer then a small GPT, fitted on the shipped Brown corpus with a validation
// set, live progress and Ctrl+C through the options; then evaluated, sampled, saved and reloaded.
// Usage: dotnet run -c Release --project samples/QuickStart [-- [steps] [--steps N] [--backend managed|torchsharp]]     (Ctrl+C stops cleanly; --help lists the defaults)
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines;
using Pipelines.Components.Models;
using Pipelines.Pretraining;
using QuickStart;
using Spectre.Console;

return QuickStartArguments.CreateCommand(Run).Parse(args).Invoke();

static int Run(QuickStartArguments arguments)
{
    var steps = arguments.Steps;
    using var cancellation = new CancellationTokenSource();
    Console.CancelKeyPress += (_, keyPress) =>
    {
        keyPress.Cancel = !cancellation.IsCancellationRequested; // a second Ctrl+C ends the process at once
        cancellation.Cancel();
    };

    var clock = Stopwatch.StartNew();
    var root = SampleData.FindRepositoryRoot();
    var runDirectory = Path.Combine(root, "runs", "quickstart");
    var context = new MLContext(seed: 42);
    var (train, trainCount) = SampleData.LoadBrown(context, root, "train.txt");
    var (validation, _) = SampleData.LoadBrown(context, root, "validation.txt");

    try
    {
        var options = new CausalLanguageModelOptions
        {
            // Measured on the shipped corpus at 300-1,000 steps: 2 layers beat 4 (more tokens per second), and a peak rate
            // of 1e-3 beat 5e-4, 2e-3, 5e-3 and 1e-2. 4,000 steps take about 80 s on two idle cores.
            Model = new TransformerConfig(layerCount: 2, headCount: 4, channels: 128, contextLength: 128),
            BatchSize = 8,
            Steps = steps,
            LearningRate = 1e-3,
            EvaluationInterval = 100,
            EvaluationBatches = 4,
            // Raw text: the estimator encodes it with the tokenizer fitted just before it in the chain.
            ValidationSet = validation,
            CancellationToken = cancellation.Token,
            Backend = arguments.CreateBackend(),
        };
        AnsiConsole.MarkupLine($"[bold]1/4[/] Fitting the chain on {trainCount:N0} Brown documents: a BPE tokenizer (vocabulary 2,048), then a " +
            $"{options.Model.LayerCount}-layer GPT (width {options.Model.Channels}) on the {arguments.Backend} backend for {steps} steps of {options.BatchSize} x {options.ResolvedSequenceLength} tokens...");
        var model = TrainingDisplay.Run(steps, progress => context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 2048)
            .Append(context.Pretraining().CausalLanguageModel(options with { Progress = progress }))
            .Fit(train));
        var languageModel = model.LastTransformer;

        AnsiConsole.MarkupLine("[bold]2/4[/] Evaluating on every validation document...");
        var metrics = model.Evaluate(validation, cancellation.Token);
        var unigram = SampleData.UnigramBitsPerByte(Path.Combine(root, "samples", "data", "brown", "validation.txt"));
        AnsiConsole.MarkupLine($"     validation loss {metrics.Loss:F3} nats/token (perplexity {metrics.Perplexity:F1}) over {metrics.TokenCount:N0} tokens");
        AnsiConsole.MarkupLine($"     [bold]{metrics.BitsPerByte:F3} bits/byte[/] ({metrics.NatsPerByte:F3} nats/byte) vs the byte-unigram entropy {unigram:F3} bits/byte ({unigram * Math.Log(2):F3} nats/byte)");

        AnsiConsole.MarkupLine("[bold]3/4[/] Sampling continuations (temperature 0.8, top-k 40):");
        foreach (var prompt in new[] { "The jury said", "In the morning, she", "The President of the United States" })
        {
            var continuation = model.GenerateText(prompt, 40, new GenerationOptions { Seed = 7 }, cancellation.Token);
            AnsiConsole.MarkupLine($"     [green]{Markup.Escape(prompt)}[/]{Markup.Escape(continuation.ReplaceLineEndings(" "))}");
        }

        var report = RunReport.Write(runDirectory, languageModel.TrainingHistory);
        var modelPath = Path.Combine(runDirectory, "model.zip");
        context.Model.Save(model, train.Schema, modelPath);
        AnsiConsole.MarkupLine($"[bold]4/4[/] Wrote {string.Join(", ", report.Select(path => Path.GetRelativePath(root, path)))} and {Path.GetRelativePath(root, modelPath)}; reloading...");
        var reloaded = (TransformerChain<ITransformer>)new MLContext(seed: 1).Model.LoadModel(modelPath, out _);
        // The reloaded model runs on the managed engine: bit-identical to a managed run, within 1e-4 of a TorchSharp one.
        var same = ModelCheck.SamePredictions(context, model, reloaded, validation, relativeTolerance: arguments.Backend == BackendChoice.Managed ? 0 : 1e-4);
        AnsiConsole.MarkupLine(same ? "     reloaded model predicts the same: [green]OK[/]" : "     reloaded model predicts differently: [red]FAIL[/]");
        AnsiConsole.MarkupLine($"Done in {clock.Elapsed.TotalSeconds:F0} s.");
        return same ? 0 : 1;
    }
    catch (OperationCanceledException)
    {
        AnsiConsole.MarkupLine($"[yellow]Cancelled[/] after {clock.Elapsed.TotalSeconds:F0} s.");
        return 130;
    }
}
