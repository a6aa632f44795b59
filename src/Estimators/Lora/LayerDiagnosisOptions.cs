using Pipelines.Components.Backends;
using Pipelines.Components.Diagnostics;
using Pipelines.Components.Models;

namespace Pipelines.Lora;

/// <summary>Where a diagnosis stands, reported to <see cref="LayerDiagnosisOptions.Progress"/>.</summary>
/// <param name="Stage">What is running now.</param>
/// <param name="Examples">Target examples measured.</param>
public sealed record LayerDiagnosisProgress(LayerDiagnosisStage Stage, int Examples);

/// <summary>The stages of a diagnosis, in order.</summary>
public enum LayerDiagnosisStage
{
    /// <summary>Forward and backward passes of the source model: attention entropy, Gh and Gw per layer.</summary>
    Measuring,
    /// <summary>Block outputs of the source and the comparison model: CKA and dCKA per layer.</summary>
    Comparing,
    /// <summary>The inflection layers and the injection plan are chosen.</summary>
    Done,
}

/// <summary>
/// Options of <see cref="LayerDiagnosisEstimator"/> (<c>mlContext.Lora().Diagnose(options)</c>): the source model, the
/// target-task batches to measure it on, and how the inflection layers are chosen.
/// </summary>
/// <remarks>
/// Immutable; each value is checked when set (<see cref="ArgumentOutOfRangeException"/> naming the option and the value).
/// The source model is a safetensors file with the engine's (PyTorch) names: a pre-trained GPT or a fine-tuned classifier's
/// weights (<c>IBackendClassifier.SaveSafeTensors</c>); its body (embeddings, blocks, final norm) is measured under a fresh
/// head for the target's classes, seeded by <see cref="Seed"/>. Defaults: 8 batches of 16, 16 PCA components for dCKA,
/// the finder's defaults (top 2 layers, rank 8, alpha 16, all projections). Paper: arXiv 2511.00797.
/// </remarks>
public sealed record LayerDiagnosisOptions
{
    /// <summary>The label column, a key (default <c>Label</c>).</summary>
    public string LabelColumnName { get; init => field = ColumnName(value, nameof(LabelColumnName)); } = "Label";

    /// <summary>The token column, a vector of keys (default <c>Tokens</c>).</summary>
    public string TokensColumnName { get; init => field = ColumnName(value, nameof(TokensColumnName)); } = "Tokens";

    /// <summary>The source model's weights (safetensors, engine names); required.</summary>
    public string SourceWeightsPath { get; init => field = string.IsNullOrWhiteSpace(value) ? throw new ArgumentException($"The option {nameof(SourceWeightsPath)} needs a file, not '{value}'.", nameof(SourceWeightsPath)) : value; } = "";

    /// <summary>A second model of the same shape (e.g. the source after fine-tuning) for CKA and dCKA per layer, or null (the default).</summary>
    public string? ComparisonWeightsPath { get; init; }

    /// <summary>The source's shape: layers, heads, width, context (default 2 layers, 4 heads, width 64, context 128); the vocabulary comes from the weights.</summary>
    public TransformerConfig Model { get; init => field = value ?? throw new ArgumentNullException(nameof(Model)); } = new(layerCount: 2, headCount: 4, channels: 64, contextLength: 128);

    /// <summary>Sequences per measured batch (default 16).</summary>
    public int BatchSize { get; init => field = AtLeast(value, 1, nameof(BatchSize)); } = 16;

    /// <summary>Batches measured (default 8); fewer when the data has fewer rows.</summary>
    public int BatchCount { get; init => field = AtLeast(value, 1, nameof(BatchCount)); } = 8;

    /// <summary>Longest sequence fed to the model (default 128, at most the context); longer ones keep their first tokens.</summary>
    public int MaximumSequenceLength { get; init => field = AtLeast(value, 1, nameof(MaximumSequenceLength)); } = 128;

    /// <summary>k, the size of the shared PCA basis of dCKA (default 16; clipped to the rows and the width).</summary>
    public int PrincipalComponents { get; init => field = AtLeast(value, 1, nameof(PrincipalComponents)); } = 16;

    /// <summary>How the inflection layers are chosen and the plan's rank, alpha and targets.</summary>
    public InflectionOptions Inflection { get; init => field = value ?? throw new ArgumentNullException(nameof(Inflection)); } = new();

    /// <summary>Seed of the fresh head and of the choice of measured rows; null draws one from the <c>MLContext</c>.</summary>
    public int? Seed { get; init; }

    /// <summary>Threads the engine may use; null uses every processor.</summary>
    public int? ThreadCount { get; init => field = value is null or >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(ThreadCount), value, $"The option {nameof(ThreadCount)} cannot be {value}: must be at least 1."); }

    /// <summary>
    /// What runs the model: null (the default) or a <see cref="ManagedBackend"/>, the managed engine (with its thread count
    /// when <see cref="ThreadCount"/> is null). The diagnosis reads attention maps, per-layer gradients and hidden states
    /// inside the engine, so another backend is refused with <see cref="NotSupportedException"/> when the estimator is made.
    /// </summary>
    public ITrainingBackend? Backend { get; init; }

    /// <summary>Receives a report at each stage (default none).</summary>
    public IProgress<LayerDiagnosisProgress>? Progress { get; init; }

    /// <summary>Stops <c>Fit</c> between stages with <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Checks the options against each other.</summary>
    /// <exception cref="NotSupportedException"><see cref="Backend"/> is not the managed engine.</exception>
    internal void Validate()
    {
        if (Backend is not (null or ManagedBackend))
            throw new NotSupportedException($"Layer diagnosis runs on the managed backend only, not on '{Backend.Name}': leave {nameof(Backend)} null or pass a ManagedBackend.");
        if (string.IsNullOrWhiteSpace(SourceWeightsPath))
            throw new ArgumentException($"The option {nameof(SourceWeightsPath)} is required: the source model's safetensors weights.", nameof(SourceWeightsPath));
        if (MaximumSequenceLength > Model.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(MaximumSequenceLength), MaximumSequenceLength, $"The option {nameof(MaximumSequenceLength)} cannot be {MaximumSequenceLength}: must be at most the model's context ({Model.ContextLength}).");
    }

    /// <summary>Threads of the run: <see cref="ThreadCount"/>, else the <see cref="ManagedBackend"/>'s, else one per processor.</summary>
    internal int ResolveThreadCount() => ThreadCount ?? (Backend as ManagedBackend)?.ThreadCount ?? Environment.ProcessorCount;

    private static int AtLeast(int value, int minimum, string option) =>
        value >= minimum ? value : throw new ArgumentOutOfRangeException(option, value, $"The option {option} cannot be {value}: must be at least {minimum}.");

    private static string ColumnName(string value, string option) =>
        string.IsNullOrWhiteSpace(value) ? throw new ArgumentException($"The option {option} needs a column name, not '{value}'.", option) : value;
}
