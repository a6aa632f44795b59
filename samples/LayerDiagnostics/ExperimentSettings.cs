namespace LayerDiagnostics;

/// <summary>The sizes of one run of the sample: the default budget (22.7 minutes measured on 2 cores at load average 12-42) or the quick smoke test.</summary>
internal sealed record ExperimentSettings
{
    public int VocabularySize { get; init; } = 1024;
    public int Layers { get; init; } = 6;
    public int Heads { get; init; } = 4;
    public int Channels { get; init; } = 64;
    public int SequenceLength { get; init; } = 64;
    public int BatchSize { get; init; } = 16;
    public long PretrainingSteps { get; init; } = 800;
    public int ParagraphsPerDocument { get; init; } = 8;
    public long UnderTrainedSteps { get; init; } = 30;
    public long OverTrainedSteps { get; init; } = 1500;
    public double SourceLearningRate { get; init; } = 3e-3;
    public int SpamRowsPerLabel { get; init; } = 800;
    public long TargetSteps { get; init; } = 200;
    public double FullLearningRate { get; init; } = 1e-3;
    public double LoraLearningRate { get; init; } = 3e-3;
    public int LoraRank { get; init; } = 8;
    public double LoraAlpha { get; init; } = 16;
    public int InflectionLayerCount { get; init; } = 2;
    public IReadOnlyList<int> Seeds { get; init; } = [1, 2, 3];
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>A smoke test of every stage in well under a minute: tiny models, few steps, one seed.</summary>
    public static ExperimentSettings Quick { get; } = new()
    {
        VocabularySize = 300, Layers = 3, Heads = 2, Channels = 16, SequenceLength = 32, BatchSize = 8, PretrainingSteps = 20,
        ParagraphsPerDocument = 1, UnderTrainedSteps = 3, OverTrainedSteps = 20, SpamRowsPerLabel = 40, TargetSteps = 8, LoraRank = 2, LoraAlpha = 4,
        InflectionLayerCount = 1, Seeds = [1],
    };
}
