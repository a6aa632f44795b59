using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Pipelines.Components.Compute;
using Pipelines.Components.Diagnostics;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using Pipelines.Components.Training;
using Pipelines.FineTuning;
using Pipelines.MachineLearning;
using Pipelines.Text;

namespace Pipelines.Lora;

/// <summary>
/// Diagnoses a source model on target-task data, layer by layer, and chooses where LoRA goes
/// (<c>mlContext.Lora().Diagnose(...)</c>); its transformer carries the per-layer metrics and the injection plan.
/// </summary>
/// <remarks>
/// The diagnose-first recipe (arXiv 2511.00797), per block l of the source model on batches of the target task:
/// <code>
/// H(l)    = mean over heads and valid queries of -Σ_j A log A          attention entropy
/// Gh(l)   = mean over examples of ||dL/dh(l)||₂                          h(l) the block's output
/// Gw(l)   = ||dL/dθ(l)||₂                                                the block's parameters
/// dCKA(l) = 1 - CKA(Hpre P, Hpost P), P the top-k PCA basis of Hpre      with a comparison model
/// </code>
/// then <c>d(l) = log Gh(l+1) - log Gh(l)</c>: the inflection layers are those of largest d(l) among those whose H(l) is below
/// the median (our rule; <see cref="InflectionLayerFinder"/>). The plan (<see cref="LayerDiagnosisTransformer.Plan"/>) is plain
/// JSON to read, edit and replay (<c>FineTuningAdaptation.Lora(plan)</c>). The loss L is the cross-entropy of a fresh,
/// seeded head for the target's classes on the source body. Example: <c>samples/LayerDiagnostics</c>.
/// </remarks>
public sealed class LayerDiagnosisEstimator : IEstimator<LayerDiagnosisTransformer>
{
    private readonly IHost host;

    /// <summary>Creates the estimator; the options are checked and the seed fixed now.</summary>
    /// <exception cref="ArgumentException">No source weights were given.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Options that do not fit together, naming the option.</exception>
    /// <exception cref="NotSupportedException"><see cref="LayerDiagnosisOptions.Backend"/> is not the managed engine.</exception>
    public LayerDiagnosisEstimator(IHostEnvironment environment, LayerDiagnosisOptions options)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        host = environment.Register("LayerDiagnosis");
        Seed = options.Seed ?? host.Rand.Next();
    }

    /// <summary>The options.</summary>
    public LayerDiagnosisOptions Options { get; }

    /// <summary>The seed of the fresh head and of the measured rows.</summary>
    public int Seed { get; }

    /// <summary>Measures the source model on rows of <paramref name="input"/> and chooses the layers.</summary>
    /// <exception cref="SchemaMismatchException">The token or label column is missing or of the wrong type.</exception>
    /// <exception cref="InvalidDataException">The source or comparison weights do not fit the model shape (the tensor is named).</exception>
    /// <exception cref="OperationCanceledException">Cancelled between stages.</exception>
    public LayerDiagnosisTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var tokens = SchemaValidation.RequireColumn(input.Schema, Options.TokensColumnName, TokenColumn.Requirement);
        var label = SchemaValidation.RequireColumn(input.Schema, Options.LabelColumnName, LabelClasses.Requirement);
        var classes = LabelClasses.FromColumn(label, nameof(input));
        var data = ClassificationRows.Read(input, tokens, label, "target", out _);
        var source = SafeTensors.Read(Options.SourceWeightsPath);
        var config = ConfigFor(source, Options.SourceWeightsPath);
        if (TokenColumn.VocabularySize(tokens) > config.VocabularySize)
            throw new SchemaMismatchException(tokens.Name, $"Vector<Key<UInt32, at most {config.VocabularySize}>> (the source model's vocabulary)", tokens.Type.ToString()!, nameof(input));
        data.CheckFits(config, classes.Count, nameof(input));

        var parallelism = new Parallelism(Options.ResolveThreadCount());
        var model = EncoderClassifier.Create(config, classes.Count, SeededRandom.ForStream(unchecked((ulong)Seed), 0).NextUInt64(), parallelism);
        PretrainedEncoderBody.Load(model, source);
        var batches = Batches(data);
        var examples = batches.Sum(batch => batch.BatchSize);
        Options.CancellationToken.ThrowIfCancellationRequested();
        Options.Progress?.Report(new LayerDiagnosisProgress(LayerDiagnosisStage.Measuring, examples));
        IReadOnlyList<LayerMetrics> metrics;
        if (Options.ComparisonWeightsPath is { } comparisonPath)
        {
            var comparison = new EncoderClassifier(config, classes.Count, parallelism);
            PretrainedEncoderBody.Load(comparison, SafeTensors.Read(comparisonPath));
            Options.Progress?.Report(new LayerDiagnosisProgress(LayerDiagnosisStage.Comparing, examples));
            metrics = LayerDiagnostics.Measure(model, comparison, batches, Options.PrincipalComponents);
        }
        else
        {
            metrics = LayerDiagnostics.Measure(model, batches);
        }

        Options.CancellationToken.ThrowIfCancellationRequested();
        var found = InflectionLayerFinder.Find(metrics, Options.Inflection);
        Options.Progress?.Report(new LayerDiagnosisProgress(LayerDiagnosisStage.Done, examples));
        using var channel = host.Start("Fit");
        channel.Info(MessageSensitivity.None, string.Create(CultureInfo.InvariantCulture,
            $"Diagnosed {config.LayerCount} layers on {examples} target rows: inflection layers [{string.Join(", ", found.InflectionLayers)}], adapting [{string.Join(", ", found.Layers)}]."));
        return new LayerDiagnosisTransformer(metrics, found);
    }

    /// <inheritdoc/>
    /// <exception cref="SchemaMismatchException">The token or label column is missing or of the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaValidation.RequireColumn(inputSchema, Options.TokensColumnName, TokenColumn.Requirement);
        SchemaValidation.RequireColumn(inputSchema, Options.LabelColumnName, LabelClasses.Requirement);
        return inputSchema;
    }

    private TransformerConfig ConfigFor(SafeTensorFile source, string path)
    {
        if (!source.Contains("wte.weight") || source["wte.weight"].Shape.Count != 2)
            throw new InvalidDataException($"The source weights '{path}' hold no 2-D tensor 'wte.weight' (the token embedding) to take the vocabulary from.");
        var (vocabulary, channels) = ((int)source["wte.weight"].Shape[0], (int)source["wte.weight"].Shape[1]);
        if (channels != Options.Model.Channels)
            throw new InvalidDataException($"The source weights' tensor 'wte.weight' is [{vocabulary}, {channels}]; the option Model has width {Options.Model.Channels}.");
        return new TransformerConfig(Options.Model.LayerCount, Options.Model.HeadCount, Options.Model.Channels, Options.Model.ContextLength, vocabulary);
    }

    /// <summary>Up to BatchCount batches of BatchSize rows, drawn without replacement in a seeded order.</summary>
    private List<DiagnosticBatch> Batches(LabeledSequences data)
    {
        var order = Enumerable.Range(0, data.Count).ToArray();
        var random = SeededRandom.ForStream(unchecked((ulong)Seed), 1);
        for (var index = order.Length - 1; index > 0; index--)
        {
            var other = random.NextInt32(index + 1);
            (order[index], order[other]) = (order[other], order[index]);
        }

        var padded = new PaddedSequenceBatch(Options.MaximumSequenceLength);
        var batches = new List<DiagnosticBatch>();
        for (var start = 0; start < order.Length && batches.Count < Options.BatchCount; start += Options.BatchSize)
        {
            padded.Fill(data, order.AsSpan(start, Math.Min(Options.BatchSize, order.Length - start)));
            batches.Add(new DiagnosticBatch(padded.Tokens.ToArray(), padded.Labels.ToArray(), padded.BatchSize, padded.TokenCount, padded.KeyMask.ToArray()));
        }

        return batches;
    }
}
