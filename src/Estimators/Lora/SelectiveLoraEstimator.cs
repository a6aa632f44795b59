using Pipelines.Components.Backends;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using Pipelines.FineTuning;

namespace Pipelines.Lora;

/// <summary>Options of <see cref="SelectiveLoraEstimator"/>: how to diagnose, how to fine-tune, and where to write the plan.</summary>
/// <remarks>
/// The diagnosis takes its columns, model shape and sequence length from <see cref="FineTuning"/>; the fine-tuning starts
/// from <see cref="LayerDiagnosisOptions.SourceWeightsPath"/> and its <see cref="TextClassificationOptions.Adaptation"/>
/// becomes LoRA with the chosen plan (so those two options of <see cref="FineTuning"/> are replaced).
/// </remarks>
public sealed record SelectiveLoraOptions
{
    /// <summary>The source model, the measured batches and the inflection rule (with the plan's rank, alpha and targets).</summary>
    public LayerDiagnosisOptions Diagnosis { get; init => field = value ?? throw new ArgumentNullException(nameof(Diagnosis)); } = new();

    /// <summary>The fine-tuning run: columns, shape, length, optimizer, validation, progress, cancellation, checkpoints.</summary>
    public TextClassificationOptions FineTuning { get; init => field = value ?? throw new ArgumentNullException(nameof(FineTuning)); } = new();

    /// <summary>Where the chosen plan is written as JSON (to read, edit and replay with <c>Inject</c>), or null (the default).</summary>
    public string? PlanPath { get; init; }
}

/// <summary>
/// Diagnose first, inject light (<c>mlContext.Lora().Selective(...)</c>): measures the source model on the target data,
/// chooses the inflection layers, then fine-tunes LoRA adapters there (and the classification head) on the frozen source.
/// </summary>
/// <remarks>
/// arXiv 2511.00797: LoRA at the inflection layers (low attention entropy, steep drop of the backward signal
/// <c>d(l) = log Gh(l+1) - log Gh(l)</c>) of an over-trained source model; an under-trained source needs the full pathway.
/// Each adapted projection computes <c>h = W0 x + (alpha/r) B A x</c> (Hu et al., arXiv 2106.09685). The same as
/// <see cref="LayerDiagnosisEstimator"/> followed by the text classifier with <c>Adaptation = FineTuningAdaptation.Lora(plan)</c>.
/// Example: <c>samples/SelectiveLora</c>.
/// </remarks>
public sealed class SelectiveLoraEstimator : IEstimator<TextClassificationTransformer>
{
    private readonly IHostEnvironment environment;
    private readonly LayerDiagnosisOptions diagnosis;
    private readonly TextClassificationOptions fineTuning;

    /// <summary>Creates the estimator; both seeds are fixed now (drawn from the context when the options have none).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Options that do not fit together, naming the option.</exception>
    /// <exception cref="NotSupportedException">A backend other than the managed engine is asked for (LoRA adapters train on the managed backend only).</exception>
    public SelectiveLoraEstimator(IHostEnvironment environment, SelectiveLoraOptions options)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        this.environment = environment;
        Options = options;
        var host = environment.Register("SelectiveLora");
        var tuning = options.FineTuning;
        if (tuning.Backend is not (null or ManagedBackend))
            throw new NotSupportedException($"Selective LoRA trains LoRA adapters, which run on the managed backend only, not on '{tuning.Backend.Name}': leave {nameof(SelectiveLoraOptions.FineTuning)}.{nameof(TextClassificationOptions.Backend)} null or pass a ManagedBackend.");
        diagnosis = options.Diagnosis with
        {
            LabelColumnName = tuning.LabelColumnName,
            TokensColumnName = tuning.TokensColumnName,
            Model = tuning.Model,
            MaximumSequenceLength = tuning.MaximumSequenceLength,
            Seed = options.Diagnosis.Seed ?? host.Rand.Next(),
            ThreadCount = options.Diagnosis.ThreadCount ?? tuning.ThreadCount,
        };
        diagnosis.Validate();
        fineTuning = tuning with { PretrainedWeightsPath = diagnosis.SourceWeightsPath, Seed = tuning.Seed ?? host.Rand.Next() };
        fineTuning.Validate();
    }

    /// <summary>The options.</summary>
    public SelectiveLoraOptions Options { get; }

    /// <summary>Diagnoses the source on <paramref name="input"/>, writes the plan if asked, and fine-tunes LoRA at the chosen layers.</summary>
    /// <exception cref="InvalidDataException">The source weights do not fit the model shape (the tensor is named).</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public TextClassificationTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var plan = new LayerDiagnosisEstimator(environment, diagnosis).Fit(input).Plan;
        if (Options.PlanPath is { } path) plan.Save(path);
        return new TextClassificationEstimator(environment, fineTuning with { Adaptation = FineTuningAdaptation.Lora(plan) }).Fit(input);
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => new TextClassificationEstimator(environment, fineTuning).GetOutputSchema(inputSchema);
}
