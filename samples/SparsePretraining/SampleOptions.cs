using System.CommandLine;
using System.Globalization;
using Pipelines.Samples;

namespace SparsePretraining;

/// <summary>The sample's command line (System.CommandLine; <c>--help</c> lists every option with its default).</summary>
internal sealed record SampleOptions
{
    public int Steps { get; init; } = 1200;
    public int BatchSize { get; init; } = 16;
    public int SequenceLength { get; init; } = 64;
    public int Channels { get; init; } = 64;
    public int Heads { get; init; } = 4;
    public int DenseLayers { get; init; } = 4;
    public int SparseLayers { get; init; } = 6;
    public int PruningInterval { get; init; } = 24;
    public double LearningRate { get; init; } = 3e-3;
    public int VocabularySize { get; init; } = 1024;
    public int EvaluationInterval { get; init; } = 50;
    public int EvaluationBatches { get; init; } = 8;
    public int FinalEvaluationBatches { get; init; } = 64;
    public int Threads { get; init; } = 1;
    public ulong Seed { get; init; } = 1;
    public int Concurrent { get; init; } = 2;
    public IReadOnlyList<long> GridSteps { get; init; } = [150, 300, 600];
    public IReadOnlyList<int> GridLayers { get; init; } = [1, 2, 3, 4];
    public int GridChannels { get; init; } = 48;
    public int EstimatorSteps { get; init; } = 300;
    public bool SkipComparison { get; init; }
    public bool SkipGrid { get; init; }
    public string Output { get; init; } = Path.Combine("runs", "sparse");
    public string? Data { get; init; }

    /// <summary>The root command: every option above with its default, parsed into a <see cref="SampleOptions"/> for <paramref name="run"/>.</summary>
    public static RootCommand CreateCommand(Func<SampleOptions, int> run)
    {
        var defaults = new SampleOptions();
        Option<int> Integer(string name, string description, int value) => new(name) { Description = description, HelpName = "N", DefaultValueFactory = _ => value };
        var steps = Integer("--steps", "Updates per comparison run.", defaults.Steps);
        var batch = Integer("--batch", "Sequences a batch.", defaults.BatchSize);
        var sequence = Integer("--sequence", "Tokens a sequence.", defaults.SequenceLength);
        var channels = Integer("--channels", "Width of the comparison models.", defaults.Channels);
        var heads = Integer("--heads", "Attention heads of every model.", defaults.Heads);
        var denseLayers = Integer("--dense-layers", "Blocks of the dense model.", defaults.DenseLayers);
        var sparseLayers = Integer("--sparse-layers", "Blocks of the bigger sparse model.", defaults.SparseLayers);
        var pruningInterval = Integer("--pruning-interval", "dt of the comparison's schedules, in steps.", defaults.PruningInterval);
        var learningRate = new Option<double>("--learning-rate") { Description = "Peak AdamW rate.", HelpName = "X", DefaultValueFactory = _ => defaults.LearningRate };
        var vocabulary = Integer("--vocabulary", "BPE vocabulary.", defaults.VocabularySize);
        var evaluationInterval = Integer("--eval-interval", "Steps between validation evaluations.", defaults.EvaluationInterval);
        var evaluationBatches = Integer("--eval-batches", "Validation batches an evaluation.", defaults.EvaluationBatches);
        var finalEvaluationBatches = Integer("--final-eval-batches", "Validation batches of the final evaluation.", defaults.FinalEvaluationBatches);
        var seed = new Option<ulong>("--seed") { Description = "Initialisation seed; the batch seed is 2024 + N.", HelpName = "N", DefaultValueFactory = _ => defaults.Seed };
        var threads = Integer("--threads", "Kernel threads per run.", defaults.Threads);
        var concurrent = Integer("--concurrent", "Runs trained at once.", defaults.Concurrent);
        var gridSteps = new Option<string>("--grid-steps")
        {
            Description = "Grid token budgets in updates, comma-separated, all different.", HelpName = "a,b,c", DefaultValueFactory = _ => string.Join(",", defaults.GridSteps),
        };
        gridSteps.Validators.Add(result => ParseList(result.GetValueOrDefault<string>(), "--grid-steps", increasing: false, maximum: long.MaxValue, result.AddError));
        var gridLayers = new Option<string>("--grid-layers")
        {
            Description = "Grid model depths, comma-separated, increasing.", HelpName = "a,b,...", DefaultValueFactory = _ => string.Join(",", defaults.GridLayers),
        };
        gridLayers.Validators.Add(result => ParseList(result.GetValueOrDefault<string>(), "--grid-layers", increasing: true, maximum: int.MaxValue, result.AddError));
        var gridChannels = Integer("--grid-channels", "Grid model width.", defaults.GridChannels);
        var estimatorSteps = Integer("--estimator-steps", "Steps of the ML.NET estimator run at the end, 0 to skip.", defaults.EstimatorSteps);
        var skipComparison = new Option<bool>("--skip-comparison") { Description = "Skip the dense vs sparse comparison (off by default)." };
        var skipGrid = new Option<bool>("--skip-grid") { Description = "Skip the scaling-law grid (off by default)." };
        var output = new Option<string>("--output") { Description = "Where CSV and SVG files go.", HelpName = "DIR", DefaultValueFactory = _ => defaults.Output };
        var data = new Option<string?>("--data") { Description = "The Brown folder (default: samples/data/brown found above the working directory).", HelpName = "DIR" };

        var root = new RootCommand("SparsePretraining: dense vs Nbar-matched sparse pre-training on Brown, then a scaling-law grid.")
        {
            steps, batch, sequence, channels, heads, denseLayers, sparseLayers, pruningInterval, learningRate, vocabulary,
            evaluationInterval, evaluationBatches, finalEvaluationBatches, seed, threads, concurrent, gridSteps, gridLayers, gridChannels,
            estimatorSteps, skipComparison, skipGrid, output, data,
        };
        root.SetAction(parsed => run(new SampleOptions
        {
            Steps = parsed.GetValue(steps),
            BatchSize = parsed.GetValue(batch),
            SequenceLength = parsed.GetValue(sequence),
            Channels = parsed.GetValue(channels),
            Heads = parsed.GetValue(heads),
            DenseLayers = parsed.GetValue(denseLayers),
            SparseLayers = parsed.GetValue(sparseLayers),
            PruningInterval = parsed.GetValue(pruningInterval),
            LearningRate = parsed.GetValue(learningRate),
            VocabularySize = parsed.GetValue(vocabulary),
            EvaluationInterval = parsed.GetValue(evaluationInterval),
            EvaluationBatches = parsed.GetValue(evaluationBatches),
            FinalEvaluationBatches = parsed.GetValue(finalEvaluationBatches),
            Seed = parsed.GetValue(seed),
            Threads = parsed.GetValue(threads),
            Concurrent = parsed.GetValue(concurrent),
            GridSteps = ParseList(parsed.GetValue(gridSteps), "--grid-steps", increasing: false, maximum: long.MaxValue, _ => { }),
            GridLayers = ParseList(parsed.GetValue(gridLayers), "--grid-layers", increasing: true, maximum: int.MaxValue, _ => { }).Select(layers => (int)layers).ToArray(),
            GridChannels = parsed.GetValue(gridChannels),
            EstimatorSteps = parsed.GetValue(estimatorSteps),
            SkipComparison = parsed.GetValue(skipComparison),
            SkipGrid = parsed.GetValue(skipGrid),
            Output = parsed.GetValue(output)!,
            Data = parsed.GetValue(data),
        }));
        return root;
    }

    /// <summary>A comma list of positive integers, all different (or strictly increasing); each problem goes to <paramref name="error"/>, quoting the list.</summary>
    private static long[] ParseList(string? text, string name, bool increasing, long maximum, Action<string> error)
    {
        var items = (text ?? "").Split(',');
        var values = new List<long>();
        foreach (var item in items)
        {
            if (!long.TryParse(item.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0 || value > maximum)
            {
                error($"{name} '{text}': '{item}' is not a positive whole number; give a comma list such as 1,2,3.");
                return [.. values];
            }

            values.Add(value);
        }

        if (increasing && values.Zip(values.Skip(1)).Any(pair => pair.Second <= pair.First)) error($"{name} '{text}': the values must increase.");
        else if (values.Distinct().Count() != values.Count) error($"{name} '{text}': the values must all differ.");
        return [.. values];
    }

    /// <summary>The Brown folder: --data, or samples/data/brown above the working directory or the executable.</summary>
    /// <exception cref="DirectoryNotFoundException">Not found: pass --data.</exception>
    public string FindData() => Data ?? RepositoryPath.Find(Path.Combine("samples", "data", "brown"));
}
