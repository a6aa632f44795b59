using Microsoft.Extensions.Logging;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Training;
using Pipelines.Data;

namespace Pipelines.FineTuning;

/// <summary>
/// Fine-tunes a transformer encoder to classify token sequences (<c>context.FineTuning.TextClassification()</c>): learns
/// the label dictionary, trains an <see cref="EncoderClassifier"/> with a <see cref="ClassifierTrainer"/>, and returns a
/// <see cref="TextClassificationTransformer"/> that adds <c>PredictedLabel</c> and <c>Score</c>.
/// </summary>
/// <remarks>
/// The label column may be text, boolean or key; classes are ordered as described on
/// <see cref="TextClassificationTransformer.Classes"/>. A BERT-style encoder (Devlin et al. 2018, arXiv 1810.04805),
/// pre-LN and mean-pooled, trained with cross-entropy. Example: <c>samples/SpamFineTune</c>.
/// </remarks>
public sealed class TextClassificationEstimator : IEstimator<TextClassificationTransformer>
{
    private readonly PipelineContext context;

    /// <summary>Creates the estimator; the options are checked against each other.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Options that do not fit together, naming the option.</exception>
    public TextClassificationEstimator(PipelineContext context, TextClassificationOptions options)
    {
        this.context = context ?? throw new ArgumentNullException(nameof(context));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
    }

    /// <summary>The options.</summary>
    public TextClassificationOptions Options { get; }

    /// <inheritdoc/>
    public TextClassificationTransformer Fit(IDataView input) => Fit(input, validation: null);

    /// <summary>Trains on <paramref name="train"/>, evaluating on <paramref name="validation"/> (may be null), reporting progress.</summary>
    /// <exception cref="SchemaMismatchException">A column is missing or of the wrong type.</exception>
    /// <exception cref="ArgumentException">A row has no tokens or no label, the labels hold fewer than two classes, or a validation label was not seen in training.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The model's vocabulary does not cover a token id (option <c>Model</c>).</exception>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became non-finite.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (a checkpoint is written first when checkpointing is on).</exception>
    public TextClassificationTransformer Fit(IDataView train, IDataView? validation, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        var labelColumn = CheckColumns(train.Schema);
        if (validation is not null)
        {
            var validationLabel = CheckColumns(validation.Schema);
            if (validationLabel.Type != labelColumn.Type)
                throw new SchemaMismatchException(Options.LabelColumnName, $"{labelColumn.Type} (the training label's type)", validationLabel.Type.ToString()!, nameof(validation));
        }

        var (trainSequences, trainNames) = ReadRows(train, "training");
        var classes = ClassLabels.Create(labelColumn.Type, Options.LabelColumnName, trainNames.OfType<string>());
        var training = ToLabeledSequences(trainSequences, trainNames, classes, "training");
        var validationSet = validation is null ? null : ReadLabeled(validation, classes);
        CheckVocabulary(training, "training");
        if (validationSet is not null) CheckVocabulary(validationSet, "validation");

        var seed = Options.Seed ?? context.DeriveSeed("FineTuning/TextClassification");
        var parallelism = new Parallelism(Options.ThreadCount ?? Environment.ProcessorCount);
        var model = EncoderClassifier.Create(Options.Model, classes.Count, SeededRandom.ForStream((ulong)seed, 0).NextUInt64(), parallelism);
        if (Options.PretrainedWeightsPath is { } pretrained) PretrainedEncoderBody.Load(model, pretrained);
        var steps = Options.Steps ?? Math.Max(1, (long)Math.Ceiling(Options.Epochs * training.Count / Options.BatchSize));
        var optimizer = new GradientTransformOptimizer(Options.Optimizer(Options.LearningRateSchedule(steps)), model.Parameters);
        var trainerOptions = new ClassifierTrainerOptions
        {
            BatchSize = Options.BatchSize,
            MaximumSequenceLength = Options.MaximumSequenceLength,
            Steps = steps,
            Sampling = Options.Sampling,
            EvaluationInterval = Options.EvaluationInterval,
            Seed = SeededRandom.ForStream((ulong)seed, 1).NextUInt64(),
            CheckpointInterval = Options.CheckpointInterval,
            CheckpointPath = Options.CheckpointPath,
            AcceptedChanges = Options.AcceptedRunChanges,
        };
        var result = new ClassifierTrainer(model, optimizer, trainerOptions).Train(training, validationSet, progress, Options.ResumePath, cancellationToken);
        var logger = context.LoggerFactory.CreateLogger<TextClassificationEstimator>();
        logger.LogInformation("Fine-tuned a {Classes}-class encoder for {Steps} steps on {Rows} rows; final training loss {Loss:F4}, validation {Validation}.",
            classes.Count, result.Steps, training.Count, result.History.Count > 0 ? result.History[^1].TrainingLoss : double.NaN,
            result.FinalValidation is { } final ? $"loss {final.Loss:F4}, accuracy {final.Accuracy:P2}" : "none");
        return new TextClassificationTransformer(Options.TokensColumnName, Options.PredictedLabelColumnName, Options.ScoreColumnName, classes,
            Options.Model, Options.MaximumSequenceLength, model.Parameters.Values.ToArray(), result);
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaValidation.RequireColumn(inputSchema, Options.TokensColumnName, ColumnRequirement.Vector(NumberDataViewType.Int32));
        var label = SchemaValidation.RequireColumn(inputSchema, Options.LabelColumnName, ClassLabels.Requirement);
        return inputSchema.WithColumns(
            new SchemaShape.Column(Options.PredictedLabelColumnName, SchemaShape.Column.VectorKind.Scalar, label.ItemType, label.IsKey),
            new SchemaShape.Column(Options.ScoreColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, isKey: false));
    }

    private DataViewSchema.Column CheckColumns(DataViewSchema schema)
    {
        SchemaValidation.RequireColumn(schema, Options.TokensColumnName, ColumnRequirement.Vector(NumberDataViewType.Int32));
        return SchemaValidation.RequireColumn(schema, Options.LabelColumnName, ClassLabels.Requirement);
    }

    /// <summary>Reads every row's tokens and label name (null when missing); an empty token vector fails naming the row.</summary>
    private (List<int[]> Sequences, List<string?> Names) ReadRows(IDataView data, string dataName)
    {
        var tokensColumn = data.Schema[Options.TokensColumnName];
        var labelColumn = data.Schema[Options.LabelColumnName];
        using var cursor = data.GetRowCursor([tokensColumn, labelColumn]);
        var tokensGetter = cursor.GetGetter<ReadOnlyMemory<int>>(tokensColumn);
        var labelReader = ClassLabels.NameReader(cursor, labelColumn);
        var sequences = new List<int[]>();
        var names = new List<string?>();
        ReadOnlyMemory<int> tokens = default;
        while (cursor.MoveNext())
        {
            tokensGetter(ref tokens);
            if (tokens.IsEmpty)
                throw new ArgumentException($"Row {cursor.Position} of the {dataName} data has no tokens in column '{Options.TokensColumnName}'; the encoder needs at least one.", dataName);
            sequences.Add(tokens.ToArray());
            names.Add(labelReader());
        }

        if (sequences.Count == 0) throw new ArgumentException($"The {dataName} data has no rows.", dataName);
        return (sequences, names);
    }

    private LabeledSequences ReadLabeled(IDataView data, ClassLabels classes)
    {
        var (sequences, names) = ReadRows(data, "validation");
        return ToLabeledSequences(sequences, names, classes, "validation");
    }

    private LabeledSequences ToLabeledSequences(List<int[]> sequences, List<string?> names, ClassLabels classes, string dataName)
    {
        var labels = new int[names.Count];
        for (var row = 0; row < labels.Length; row++)
        {
            var name = names[row] ?? throw new ArgumentException($"Row {row} of the {dataName} data has a missing label in column '{Options.LabelColumnName}'.", dataName);
            labels[row] = classes.IndexOf(name);
            if (labels[row] < 0)
                throw new ArgumentException($"Row {row} of the {dataName} data has the label '{name}', which the training data does not hold (classes: {string.Join(", ", classes.Names)}).", dataName);
        }

        return new LabeledSequences(sequences, labels);
    }

    private void CheckVocabulary(LabeledSequences data, string dataName)
    {
        var vocabulary = Options.Model.VocabularySize;
        if (data.MaximumTokenId < vocabulary) return;
        var row = data.Sequences.ToList().FindIndex(sequence => sequence.Any(token => token >= vocabulary));
        var token = data.Sequences[row].First(id => id >= vocabulary);
        throw new ArgumentOutOfRangeException(nameof(TextClassificationOptions.Model), vocabulary,
            $"The model's vocabulary of {vocabulary} tokens does not cover token id {token} (row {row} of the {dataName} data, column '{Options.TokensColumnName}'): " +
            $"give Model a VocabularySize of at least {data.MaximumTokenId + 1}.");
    }
}
