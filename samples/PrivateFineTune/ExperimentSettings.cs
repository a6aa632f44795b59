namespace PrivateFineTune;

/// <summary>The experiment's size: the encoder, the run length, the budgets and seeds; <see cref="Full"/> or <see cref="Quick"/>.</summary>
internal sealed record ExperimentSettings
{
    /// <summary>About 15 minutes on 2 cores: 2 layers of width 64, 100 steps of an expected 64 messages, epsilon 1, 3, 8, three seeds.</summary>
    public static ExperimentSettings Full { get; } = new();

    /// <summary>A smoke run of a few seconds: a tiny encoder on a few messages, epsilon 3, one seed.</summary>
    public static ExperimentSettings Quick { get; } = new()
    {
        Layers = 1, Heads = 2, Channels = 16, MaximumSequenceLength = 32, VocabularySize = 300, BatchSize = 16, Steps = 8,
        Epsilons = [3], Seeds = [1], TrainingCount = 160, RewardCount = 20, TestCount = 40, RldpInterval = 2, Delta = 1e-3,
    };

    public int Layers { get; init; } = 2;

    public int Heads { get; init; } = 4;

    public int Channels { get; init; } = 64;

    public int MaximumSequenceLength { get; init; } = 128;

    public int VocabularySize { get; init; } = 2048;

    /// <summary>The batch size of the non-private runs and the expected one of the private runs (q = B / N).</summary>
    public int BatchSize { get; init; } = 64;

    public long Steps { get; init; } = 100;

    public double LearningRate { get; init; } = 2e-3;

    public double ClipNorm { get; init; } = 1;

    public double Delta { get; init; } = 1e-5;

    public IReadOnlyList<double> Epsilons { get; init; } = [1, 3, 8];

    public IReadOnlyList<int> Seeds { get; init; } = [1, 2, 3];

    /// <summary>Training messages used (all 1,600 by default).</summary>
    public int TrainingCount { get; init; } = int.MaxValue;

    /// <summary>Validation messages held out as the reward set (the rest are the test set).</summary>
    public int RewardCount { get; init; } = 100;

    /// <summary>Test messages used (all the rest by default).</summary>
    public int TestCount { get; init; } = int.MaxValue;

    public int RldpInterval { get; init; } = 10;

    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Causal-LM pre-training steps of the encoder's body on samples/data/brown before every run (0 = every run starts from random weights).</summary>
    public long PretrainingSteps { get; init; }

    /// <summary>Brown documents the body is pre-trained on (the first ones of train.txt).</summary>
    public int PretrainingDocuments { get; init; } = int.MaxValue;

    public double PretrainingLearningRate { get; init; } = 3e-3;

    /// <summary>Which parameters fine-tuning trains: the whole encoder, LoRA adapters (rank 8, alpha 16, every projection) + the head, or both in turn.</summary>
    public IReadOnlyList<Adaptation> Adaptations { get; init; } = [Adaptation.Full];

    public int LoraRank { get; init; } = 8;

    public double LoraAlpha { get; init; } = 16;
}

/// <summary>What fine-tuning trains.</summary>
internal enum Adaptation
{
    /// <summary>Every weight of the encoder and the head.</summary>
    Full,

    /// <summary>LoRA's A and B on every projection, and the head; the body is frozen.</summary>
    Lora,
}
