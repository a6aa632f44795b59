// Sparse pre-training (arXiv 2501.12486) at small scale on the Brown corpus:
//   1. a dense GPT against a bigger GPT pruned 25%->75% to the dense model's average parameter count (Nbar),
//      trained on the same tokens, plus early (0-50%) and late (50-100%) schedules matched the same way;
//   2. a grid of smaller runs to fit L(Nbar, D) = E + A/Nbar^alpha + B/D^beta and plain Chinchilla in N,
//      scored on held-out runs.
//   3. the same technique as an application uses it: one ML.NET chain, TrainBytePairEncoding then
//      mlContext.Sparsity().SparsePretraining(...), fitted, evaluated, saved and reloaded.
// Writes CSV and SVG files to runs/sparse. Run from the repository root:
//   dotnet run -c Release --project samples/SparsePretraining -- --steps 1200
//   dotnet run -c Release --project samples/SparsePretraining -- --help     # every option with its default
using System.Diagnostics;
using Pipelines.Experiments;
using Pipelines.Components.Models;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Text;
using Pipelines.Components.Training;
using SparsePretraining;

return SampleOptions.CreateCommand(Run).Parse(args).Invoke();

static int Run(SampleOptions options)
{
    using var cancellation = new CancellationTokenSource();
    Console.CancelKeyPress += (_, eventArgs) => { eventArgs.Cancel = true; cancellation.Cancel(); };
    Directory.CreateDirectory(options.Output);
    var clock = Stopwatch.StartNew();

    // Tokenise Brown with a byte-pair encoding learnt on its training split.
    var data = options.FindData();
    var trainingText = File.ReadAllText(Path.Combine(data, "train.txt"));
    var validationText = File.ReadAllText(Path.Combine(data, "validation.txt"));
    var tokenizer = new BytePairEncodingTrainer(new BytePairEncodingTrainerOptions { VocabularySize = options.VocabularySize }).Train(trainingText);
    var trainingTokens = tokenizer.Encode(trainingText);
    var validationTokens = tokenizer.Encode(validationText);
    Console.WriteLine($"Brown: BPE vocabulary {tokenizer.VocabularySize}; {trainingTokens.Length:N0} training and {validationTokens.Length:N0} validation tokens " +
        $"({(double)trainingText.Length / trainingTokens.Length:F2} bytes a token); {clock.Elapsed.TotalSeconds:F0} s");

    var progress = new ConsoleProgress();
    LanguageModelTrainingOptions Training(long steps) => new()
    {
        BatchSize = options.BatchSize, SequenceLength = options.SequenceLength, Steps = steps, Seed = 2024 + options.Seed,
        EvaluationInterval = options.EvaluationInterval, EvaluationBatches = options.EvaluationBatches,
    };
    TransformerConfig Model(int layers, int channels) => new(layers, options.Heads, channels, options.SequenceLength, tokenizer.VocabularySize);
    var baseRun = new SparsePretrainingRunOptions
    {
        Name = "dense", Model = Model(options.DenseLayers, options.Channels), Training = Training(options.Steps),
        PeakLearningRate = options.LearningRate, ThreadCount = options.Threads, InitializationSeed = options.Seed, FinalEvaluationBatches = options.FinalEvaluationBatches,
    };

    if (!options.SkipComparison)
    {
        var sparseModel = Model(options.SparseLayers, options.Channels);
        var runs = SparsePretrainingExperiment.MatchedComparison(baseRun, sparseModel, SparsePretrainingExperiment.StandardSchedules(options.Steps, options.PruningInterval));
        var dense = SparsePretrainingExperiment.CountParameters(baseRun.Model);
        var sparse = SparsePretrainingExperiment.CountParameters(sparseModel);
        Console.WriteLine($"\nComparison: dense L{options.DenseLayers} C{options.Channels} (N = {dense.Total:N0}) vs sparse L{options.SparseLayers} C{options.Channels} " +
            $"(N = {sparse.Total:N0}, prunable {sparse.Prunable:N0}); {options.Steps} steps x {options.BatchSize * options.SequenceLength} tokens; " +
            string.Join(", ", runs.Skip(1).Select(run => $"{run.Name} s_f = {run.Pruning!.FinalSparsity:P1}")));
        var results = SparsePretrainingExperiment.RunAll(runs, trainingTokens, validationTokens, options.Concurrent, progress, cancellation.Token);
        Reports.WriteComparison(options.Output, results);
        Reports.PrintComparison(results);
        Console.WriteLine($"Comparison done in {clock.Elapsed.TotalMinutes:F1} min.");
    }

    if (!options.SkipGrid)
    {
        var gridOptions = new SparsePretrainingGridOptions
        {
            Models = options.GridLayers.Select(layers => Model(layers, options.GridChannels)).ToArray(),
            StepBudgets = options.GridSteps,
            Base = baseRun,
        };
        var plan = SparsePretrainingGrid.Plan(gridOptions);
        Console.WriteLine($"\nScaling grid: {plan.Count} runs (depths {string.Join(",", options.GridLayers)} at width {options.GridChannels}; " +
            $"budgets {string.Join(",", options.GridSteps)} steps; sparse L_i pruned 25%-75% to the Nbar of dense L_(i-1)).");
        var gridRuns = SparsePretrainingGrid.Run(gridOptions, trainingTokens, validationTokens, options.Concurrent, progress, cancellation.Token);
        var comparisons = new[]
        {
            SparsePretrainingGrid.Evaluate(gridRuns, ScalingHoldOut.SparseRuns),
            SparsePretrainingGrid.Evaluate(gridRuns, ScalingHoldOut.LargestBudget),
            SparsePretrainingGrid.Evaluate(gridRuns, ScalingHoldOut.SparseRuns, countEmbeddings: false),
            SparsePretrainingGrid.Evaluate(gridRuns, ScalingHoldOut.LargestBudget, countEmbeddings: false),
        };
        Reports.WriteGrid(options.Output, gridRuns, comparisons);
        Reports.PrintGrid(gridRuns, comparisons);
    }

    if (options.EstimatorSteps > 0) EstimatorRun.Run(options, data, options.Output, cancellation.Token);

    Console.WriteLine($"\nAll done in {clock.Elapsed.TotalMinutes:F1} min; files in {Path.GetFullPath(options.Output)}");
    return 0;
}

/// <summary>Prints each run's progress about ten times, from whichever thread trains it.</summary>
internal sealed class ConsoleProgress : IProgress<SparsePretrainingProgress>
{
    private readonly Lock gate = new();

    public void Report(SparsePretrainingProgress value)
    {
        var every = Math.Max(1, value.TotalSteps / 10);
        if (value.Step % every != 0 && value.Step != value.TotalSteps) return;
        lock (gate)
        {
            Console.WriteLine($"  [{value.Run}] step {value.Step}/{value.TotalSteps} loss {value.TrainingLoss:F3}" +
                (value.ValidationLoss is { } validation ? $" val {validation:F3}" : "") +
                $" sparsity {value.OverallSparsity:P1} N {value.NonZeroCount:N0} Nbar {value.AverageParameterCount:N0} {value.TokensPerSecond:N0} tok/s {value.Elapsed.TotalSeconds:F0} s");
        }
    }
}
