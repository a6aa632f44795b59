using System.Globalization;

namespace SparsePretraining;

/// <summary>The sample's command line: <c>--name value</c> pairs and a few switches; every option has a default.</summary>
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

    public const string Usage = """
        SparsePretraining: dense vs Nbar-matched sparse pre-training on Brown, then a scaling-law grid.
          --steps N                 updates per comparison run (1200)
          --batch N --sequence N    batch shape (16 x 64 tokens)
          --channels N --heads N    width and heads of the comparison models (64, 4)
          --dense-layers N          blocks of the dense model (4)
          --sparse-layers N         blocks of the bigger sparse model (6)
          --pruning-interval N      dt of the comparison's schedules (24)
          --learning-rate X         peak AdamW rate (3e-3)
          --vocabulary N            BPE vocabulary (1024)
          --eval-interval N --eval-batches N --final-eval-batches N   (50, 8, 64)
          --seed N                  initialisation seed; the batch seed is 2024 + N (1)
          --threads N               kernel threads per run (1)
          --concurrent N            runs trained at once (2)
          --grid-steps a,b,c        grid token budgets in updates (150,300,600)
          --grid-layers a,b,...     grid model depths, increasing (1,2,3,4)
          --grid-channels N         grid model width (48)
          --estimator-steps N       steps of the ML.NET estimator run at the end, 0 to skip (300)
          --skip-comparison --skip-grid
          --output DIR              where CSV and SVG files go (runs/sparse)
          --data DIR                the Brown folder (found above the working directory by default)
        """;

    public static SampleOptions Parse(string[] args)
    {
        var options = new SampleOptions();
        for (var index = 0; index < args.Length; index++)
        {
            var name = args[index];
            string Value() => index + 1 < args.Length ? args[++index] : throw new ArgumentException($"{name} needs a value.");
            int Integer() => int.Parse(Value(), CultureInfo.InvariantCulture);
            options = name switch
            {
                "--steps" => options with { Steps = Integer() },
                "--batch" => options with { BatchSize = Integer() },
                "--sequence" => options with { SequenceLength = Integer() },
                "--channels" => options with { Channels = Integer() },
                "--heads" => options with { Heads = Integer() },
                "--dense-layers" => options with { DenseLayers = Integer() },
                "--sparse-layers" => options with { SparseLayers = Integer() },
                "--pruning-interval" => options with { PruningInterval = Integer() },
                "--learning-rate" => options with { LearningRate = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--vocabulary" => options with { VocabularySize = Integer() },
                "--eval-interval" => options with { EvaluationInterval = Integer() },
                "--eval-batches" => options with { EvaluationBatches = Integer() },
                "--final-eval-batches" => options with { FinalEvaluationBatches = Integer() },
                "--threads" => options with { Threads = Integer() },
                "--seed" => options with { Seed = ulong.Parse(Value(), CultureInfo.InvariantCulture) },
                "--concurrent" => options with { Concurrent = Integer() },
                "--grid-steps" => options with { GridSteps = Value().Split(',').Select(item => long.Parse(item, CultureInfo.InvariantCulture)).ToArray() },
                "--grid-layers" => options with { GridLayers = Value().Split(',').Select(item => int.Parse(item, CultureInfo.InvariantCulture)).ToArray() },
                "--grid-channels" => options with { GridChannels = Integer() },
                "--estimator-steps" => options with { EstimatorSteps = Integer() },
                "--skip-comparison" => options with { SkipComparison = true },
                "--skip-grid" => options with { SkipGrid = true },
                "--output" => options with { Output = Value() },
                "--data" => options with { Data = Value() },
                _ => throw new ArgumentException($"Unknown option '{name}'."),
            };
        }

        return options;
    }

    /// <summary>The Brown folder: --data, or samples/data/brown above the working directory or the executable.</summary>
    public string FindData()
    {
        if (Data is not null) return Data;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "samples", "data", "brown");
                if (File.Exists(Path.Combine(candidate, "train.txt"))) return candidate;
            }
        }

        throw new DirectoryNotFoundException("samples/data/brown not found above the working directory; pass --data.");
    }
}
