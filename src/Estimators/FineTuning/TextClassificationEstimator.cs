using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Pipelines.Components.Backends;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Privacy;
using Pipelines.Components.Serialization;
using Pipelines.Components.Training;
using Pipelines.MachineLearning;
using Pipelines.Privacy;
using Pipelines.Text;

namespace Pipelines.FineTuning;

/// <summary>
/// Fine-tunes a transformer encoder to classify token sequences
/// (<c>mlContext.MulticlassClassification.Trainers.TextClassifier()</c>); its transformer adds <c>PredictedLabel</c>
/// and <c>Score</c> as ML.NET's multiclass trainers do.
/// </summary>
/// <remarks>
/// <para>
/// The model is a BERT-style encoder (Devlin et al. 2018, arXiv 1810.04805), pre-LN and mean-pooled: for tokens
/// <c>t_1..t_n</c> (cut to <see cref="TextClassificationOptions.MaximumSequenceLength"/>),
/// <c>h = LN_f(Blocks(E[t_i] + P[i]))</c> with bidirectional attention, <c>z = W · mean_i(h_i) + b</c>,
/// <c>p = softmax(z)</c>, trained to minimise the cross-entropy <c>-ln p[label]</c> averaged over each batch
/// (<see cref="EncoderClassifier"/>, <see cref="ClassifierTrainer"/>).
/// </para>
/// <para>
/// Columns: the label is a key (put <c>MapValueToKey("Label")</c> before); class <c>k</c> is key <c>k + 1</c> and the
/// <c>k</c>-th score slot. The tokens are the key vector <see cref="TokenColumn"/> describes; the vocabulary is the
/// column's key count unless <see cref="TextClassificationOptions.VocabularySize"/> says more. Rows with a missing label
/// are skipped. Progress and a summary go to <c>MLContext.Log</c>. Example: <c>samples/SpamFineTune</c>.
/// </para>
/// </remarks>
public sealed class TextClassificationEstimator : IEstimator<TextClassificationTransformer>
{
    private const string HostName = "TextClassifier";

    private readonly IHost host;

    /// <summary>Creates the estimator; the options are checked against each other and the seed is fixed now.</summary>
    /// <param name="environment">The <see cref="MLContext"/> (or another ML.NET environment): its seeded generator gives the seed when the options have none, and its log receives the messages.</param>
    /// <param name="options">The options.</param>
    /// <exception cref="ArgumentOutOfRangeException">Options that do not fit together, naming the option.</exception>
    public TextClassificationEstimator(IHostEnvironment environment, TextClassificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        host = environment.Register(HostName);
        Seed = options.Seed ?? host.Rand.Next();
    }

    /// <summary>The options.</summary>
    public TextClassificationOptions Options { get; }

    /// <summary>The seed of the initial weights and the batches: the options' seed, or one drawn from the context when the estimator was created.</summary>
    public int Seed { get; }

    /// <summary>Trains on <paramref name="input"/> with the options' validation set, progress, cancellation and checkpoints.</summary>
    /// <inheritdoc cref="Fit(IDataView, IDataView?, IProgress{TrainingProgress}?, CancellationToken)"/>
    public TextClassificationTransformer Fit(IDataView input) => Fit(input, Options.ValidationSet, Options.Progress, Options.CancellationToken);

    /// <summary>Trains on <paramref name="train"/>, evaluating on <paramref name="validation"/> (may be null), reporting to <paramref name="progress"/>.</summary>
    /// <exception cref="SchemaMismatchException">A column is missing or of the wrong type, or the validation label is not the training label's key type.</exception>
    /// <exception cref="ArgumentException">A labelled row has no tokens, or no row has a label.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="TextClassificationOptions.VocabularySize"/> is smaller than the token column's key count.</exception>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became non-finite.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (a checkpoint is written first when checkpointing is on).</exception>
    public TextClassificationTransformer Fit(IDataView train, IDataView? validation, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        var (tokensColumn, labelColumn) = RequireColumns(train.Schema, nameof(train));
        var classes = LabelClasses.FromColumn(labelColumn, nameof(train));
        var vocabularySize = ChooseVocabulary(TokenColumn.VocabularySize(tokensColumn));
        var training = ClassificationRows.Read(train, tokensColumn, labelColumn, "training", out var skippedTraining);
        var validationSet = validation is null ? null : ReadValidation(validation, labelColumn.Type, vocabularySize);

        var config = new TransformerConfig(Options.Model.LayerCount, Options.Model.HeadCount, Options.Model.Channels, Options.Model.ContextLength, vocabularySize);
        var loraPlan = Options.Adaptation.PlanFor(config);
        var model = Options.ResolveBackend().CreateClassifier(config, classes.Count, SeededRandom.ForStream(unchecked((ulong)Seed), 0).NextUInt64());
        if (Options.PretrainedWeightsPath is { } pretrained) model.LoadPretrainedBody(SafeTensors.Read(pretrained));
        var steps = Options.Steps ?? Math.Max(1, (long)Math.Ceiling(Options.Epochs * training.Count / Options.BatchSize));
        var optimizer = Options.Optimizer(Options.LearningRateSchedule(steps));
        var trainerOptions = new ClassifierTrainerOptions
        {
            BatchSize = Options.BatchSize,
            MaximumSequenceLength = Options.MaximumSequenceLength,
            Steps = steps,
            Sampling = Options.Sampling,
            EvaluationInterval = Options.EvaluationInterval,
            Seed = SeededRandom.ForStream(unchecked((ulong)Seed), 1).NextUInt64(),
            CheckpointInterval = Options.CheckpointInterval,
            CheckpointPath = Options.CheckpointPath,
            AcceptedChanges = Options.AcceptedRunChanges,
        };

        using var channel = host.Start("Fit");
        var skippedText = skippedTraining > 0 ? Invariant($" ({skippedTraining} rows without a label skipped)") : "";
        Log(channel, Invariant($"Fine-tuning a {classes.Count}-class encoder ({config.LayerCount} layers, width {config.Channels}, vocabulary {vocabularySize}, ") +
            Invariant($"{model.ParameterCount:N0} parameters on the {model.Backend.Name} backend) for {steps} steps of {Options.BatchSize} on {training.Count} rows{skippedText}; seed {Seed}."));
        Log(channel, Invariant($"Adaptation: {Options.Adaptation}."));
        var (result, privacy) = PrivateClassification.Train(model, Options.Privacy, new ClassifierTrainingRun(training, validationSet, optimizer, trainerOptions)
        {
            ExampleWeights = Options.ExampleWeights,
            LoraPlan = loraPlan,
            Progress = new LoggingProgress(channel, steps, progress),
            ResumeFrom = Options.ResumePath,
            CancellationToken = cancellationToken,
        });
        Log(channel, Invariant($"Fine-tuned for {result.Steps} steps; final training loss {(result.History.Count > 0 ? result.History[^1].TrainingLoss : double.NaN):F4}") +
            (result.FinalValidation is { } final ? Invariant($", validation loss {final.Loss:F4}, accuracy {final.Accuracy:P2}.") : "."));
        if (privacy is not null) Log(channel, "Privacy: " + privacy + (privacy.StoppedByBudget ? "; stopped before the step that would exceed the budget." : "."));
        return new TextClassificationTransformer(Options.TokensColumnName, Options.PredictedLabelColumnName, Options.ScoreColumnName, classes,
            model, Options.MaximumSequenceLength, result) { Privacy = privacy };
    }

    /// <inheritdoc/>
    /// <exception cref="SchemaMismatchException">The token or label column is missing or of the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaValidation.RequireColumn(inputSchema, Options.TokensColumnName, TokenColumn.Requirement);
        var label = SchemaValidation.RequireColumn(inputSchema, Options.LabelColumnName, LabelClasses.Requirement);
        var (predictedLabelAnnotations, scoreAnnotations) = LabelClasses.AnnotationShapes(label);
        return inputSchema.WithColumns(
            SchemaShapes.Column(Options.PredictedLabelColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, isKey: true, predictedLabelAnnotations),
            SchemaShapes.Column(Options.ScoreColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, isKey: false, scoreAnnotations));
    }

    private (DataViewSchema.Column Tokens, DataViewSchema.Column Label) RequireColumns(DataViewSchema schema, string parameterName)
    {
        var tokens = SchemaValidation.RequireColumn(schema, Options.TokensColumnName, TokenColumn.Requirement);
        if (((VectorDataViewType)tokens.Type).ItemType.RawType != typeof(uint))
            throw new SchemaMismatchException(tokens.Name, "Vector<Key<UInt32>>", tokens.Type.ToString()!, parameterName);
        return (tokens, SchemaValidation.RequireColumn(schema, Options.LabelColumnName, LabelClasses.Requirement));
    }

    private int ChooseVocabulary(int columnVocabulary)
    {
        if (Options.VocabularySize is not { } chosen) return columnVocabulary;
        if (chosen < columnVocabulary)
            throw new ArgumentOutOfRangeException(nameof(TextClassificationOptions.VocabularySize), chosen,
                $"The option VocabularySize ({chosen}) is smaller than the {columnVocabulary} token keys of column '{Options.TokensColumnName}': " +
                "leave it null to take the column's vocabulary, or give at least the key count.");
        return chosen;
    }

    private LabeledSequences ReadValidation(IDataView validation, DataViewType trainingLabelType, int vocabularySize)
    {
        var (tokens, label) = RequireColumns(validation.Schema, nameof(validation));
        if (!label.Type.Equals(trainingLabelType))
            throw new SchemaMismatchException(label.Name, $"{trainingLabelType} (the training label's type)", label.Type.ToString()!, nameof(validation));
        if (TokenColumn.VocabularySize(tokens) > vocabularySize)
            throw new SchemaMismatchException(tokens.Name, $"Vector<Key<UInt32, at most {vocabularySize}>> (the training vocabulary)", tokens.Type.ToString()!, nameof(validation));
        return ClassificationRows.Read(validation, tokens, label, "validation", out _);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Writes an information message to the context's log (<c>MLContext.Log</c>).</summary>
    private static void Log(IChannel channel, string message) => channel.Info(MessageSensitivity.None, message);

    /// <summary>Passes every report on, and writes about ten of them to the context's log.</summary>
    private sealed class LoggingProgress(IChannel channel, long totalSteps, IProgress<TrainingProgress>? inner) : IProgress<TrainingProgress>
    {
        private readonly long interval = Math.Max(1, totalSteps / 10);

        public void Report(TrainingProgress value)
        {
            if (value.Step % interval == 0 || value.Step == value.TotalSteps)
                Log(channel, Invariant($"step {value.Step}/{value.TotalSteps}: loss {value.Loss:F4}, learning rate {value.LearningRate:G3}") +
                    (value.ValidationLoss is { } validationLoss ? Invariant($", validation loss {validationLoss:F4}") : "") +
                    Invariant($", {value.TokensPerSecond:N0} tokens/s") + (value.Epsilon is { } epsilon ? Invariant($", epsilon {epsilon:G4}") : ""));
            inner?.Report(value);
        }
    }
}

/// <summary>
/// The fitted text classifier: adds the predicted label (the training label's key type, with its key values) and the
/// per-class probabilities (<c>Score</c>, a vector of Single with the class names as slot names) of each row's tokens.
/// </summary>
/// <remarks>
/// Each row runs on its own (batch of one), cut to <see cref="MaximumSequenceLength"/> tokens as in training, on one
/// thread, so predictions do not depend on the machine; the model runs at most once per row, and only when an output
/// is read. Thread-safe: the model is held behind the backend boundary (<see cref="IBackendClassifier"/>), whose
/// predictions may run from several threads, so prediction engines on several threads can share the transformer. Saved by
/// <c>MLContext.Model.Save</c> as a JSON description and the weights as the entry <c>weights.safetensors</c>
/// (PyTorch's names); <c>MLContext.Model.Load</c> brings it back as this type.
/// </remarks>
[MachineLearningModelLoader(LoaderSignature)]
public sealed class TextClassificationTransformer : RowMappingTransformer
{
    private const string LoaderSignature = "PipelinesTextClassifier";
    private const string WeightsEntry = "weights.safetensors";
    private static readonly ModelVersion ModelVersion = CreateVersion("PLTXTCLS", 0x00010001, LoaderSignature);

    private readonly LabelClasses classes;
    private readonly IBackendClassifier model;

    internal TextClassificationTransformer(string tokensColumnName, string predictedLabelColumnName, string scoreColumnName, LabelClasses classes,
        IBackendClassifier model, int maximumSequenceLength, ClassifierTrainingResult? trainingResult)
    {
        TokensColumnName = tokensColumnName;
        PredictedLabelColumnName = predictedLabelColumnName;
        ScoreColumnName = scoreColumnName;
        this.classes = classes;
        this.model = model;
        MaximumSequenceLength = maximumSequenceLength;
        TrainingResult = trainingResult;
    }

    /// <summary>The token column read.</summary>
    public string TokensColumnName { get; }

    /// <summary>The predicted-label column added.</summary>
    public string PredictedLabelColumnName { get; }

    /// <summary>The probability column added.</summary>
    public string ScoreColumnName { get; }

    /// <summary>Number of classes K (the label's key count).</summary>
    public int ClassCount => classes.Count;

    /// <summary>The class of each score slot as text (the label's key values), or null when the label had no key values.</summary>
    public IReadOnlyList<string>? ClassNames => classes.Names;

    /// <summary>The encoder's shape, with its vocabulary.</summary>
    public TransformerConfig ModelConfig => model.Config;

    /// <summary>The model behind the backend boundary (on the backend that trained it, or the managed one after loading).</summary>
    public IBackendClassifier Model => model;

    /// <summary>Longest sequence the model reads; longer ones keep their first tokens.</summary>
    public int MaximumSequenceLength { get; }

    /// <summary>The run that produced the transformer (steps, loss history, final validation); null once loaded from a file.</summary>
    public ClassifierTrainingResult? TrainingResult { get; }

    /// <summary>The (epsilon, delta) guarantee of a private fine-tuning run (<see cref="TextClassificationOptions.Privacy"/>); saved and loaded with the model; null when not private.</summary>
    public PrivacyGuarantee? Privacy { get; internal init; }

    private protected override ModelVersion Version => ModelVersion;

    /// <summary>The class probabilities [K] of one sequence of token ids (0-based), as <c>Score</c> holds them.</summary>
    /// <exception cref="ArgumentException">The sequence is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token id is outside the vocabulary.</exception>
    public float[] PredictProbabilities(ReadOnlySpan<int> tokenIds)
    {
        var probabilities = new float[ClassCount];
        Predict(tokenIds, probabilities);
        return probabilities;
    }

    private protected override IRowMapper CreateMapper(DataViewSchema inputSchema) => new Mapper(this, inputSchema);

    private protected override void SaveModel(IModelWriter writer)
    {
        var config = model.Config;
        writer.WriteJson(new Description(TokensColumnName, PredictedLabelColumnName, ScoreColumnName, classes.Describe(),
            new ModelShape(config.LayerCount, config.HeadCount, config.Channels, config.ContextLength, config.VocabularySize), MaximumSequenceLength, Privacy));
        using var stream = writer.WriteStream(WeightsEntry);
        model.SaveSafeTensors(stream);
    }

    /// <summary>Called by <c>MLContext.Model.Load</c> (registered by <see cref="MachineLearningModelLoaderAttribute"/>).</summary>
    /// <exception cref="InvalidDataException">The description and the weights do not fit together, or a weight is not finite (the tensor is named).</exception>
    private static TextClassificationTransformer Create(IHostEnvironment environment, object loadContext)
    {
        var reader = ModelParts.Open(environment, loadContext, ModelVersion);
        var description = reader.ReadJson<Description>();
        var shape = description.Model;
        TransformerConfig config;
        try
        {
            config = new TransformerConfig(shape.LayerCount, shape.HeadCount, shape.Channels, shape.ContextLength, shape.VocabularySize);
        }
        catch (ArgumentOutOfRangeException exception)
        {
            throw new InvalidDataException($"The saved model shape is invalid: {exception.Message}", exception);
        }

        if (description.MaximumSequenceLength < 1 || description.MaximumSequenceLength > config.ContextLength)
            throw new InvalidDataException($"The saved maximum sequence length {description.MaximumSequenceLength} is outside [1, {config.ContextLength}].");
        var classes = LabelClasses.Restore(description.Classes);
        var model = new EncoderClassifier(config, classes.Count, Parallelism.Sequential);
        using (var stream = reader.OpenStream(WeightsEntry)) model.Parameters.LoadSafeTensors(stream);
        foreach (var parameter in model.Parameters.Parameters)
        {
            var values = model.Parameters.ValuesOf(parameter);
            for (var index = 0; index < values.Length; index++)
            {
                if (!float.IsFinite(values[index]))
                    throw new InvalidDataException($"The saved weights hold {values[index]} at index {index} of tensor '{parameter.Name}'; a model's weights must be finite.");
            }
        }

        return new TextClassificationTransformer(description.TokensColumnName, description.PredictedLabelColumnName, description.ScoreColumnName, classes,
            new ManagedBackend(1).Adopt(model), description.MaximumSequenceLength, trainingResult: null) { Privacy = description.Privacy };
    }

    private void Predict(ReadOnlySpan<int> tokenIds, Span<float> probabilities) => model.Predict(tokenIds, MaximumSequenceLength, probabilities);

    private sealed record ModelShape(int LayerCount, int HeadCount, int Channels, int ContextLength, int VocabularySize);

    private sealed record Description(string TokensColumnName, string PredictedLabelColumnName, string ScoreColumnName, LabelClasses.Description Classes,
        ModelShape Model, int MaximumSequenceLength, PrivacyGuarantee? Privacy = null);

    private sealed class Mapper : IRowMapper
    {
        private readonly TextClassificationTransformer parent;
        private readonly DataViewSchema.Column tokens;

        public Mapper(TextClassificationTransformer parent, DataViewSchema inputSchema)
        {
            this.parent = parent;
            tokens = SchemaValidation.RequireColumn(inputSchema, parent.TokensColumnName, TokenColumn.Requirement);
            var vocabulary = parent.ModelConfig.VocabularySize;
            if (((VectorDataViewType)tokens.Type).ItemType is not KeyDataViewType { RawType: var raw } key || raw != typeof(uint) || key.Count > (ulong)vocabulary)
                throw new SchemaMismatchException(tokens.Name, $"Vector<Key<UInt32, at most {vocabulary}>> (the model's vocabulary)", tokens.Type.ToString()!, nameof(inputSchema));
            InputColumns = [tokens];
            OutputColumns =
            [
                new DataViewSchema.DetachedColumn(parent.PredictedLabelColumnName, parent.classes.KeyType, parent.classes.PredictedLabelAnnotations),
                new DataViewSchema.DetachedColumn(parent.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, parent.ClassCount), parent.classes.ScoreAnnotations),
            ];
        }

        public IReadOnlyList<DataViewSchema.Column> InputColumns { get; }

        public IReadOnlyList<DataViewSchema.DetachedColumn> OutputColumns { get; }

        public Delegate?[] CreateGetters(DataViewRow input, Func<int, bool> isOutputActive)
        {
            var readTokens = TokenColumn.CreateReader(input, tokens);
            var scores = new float[parent.ClassCount];
            var predicted = 0;
            var computedPosition = long.MinValue;

            void Compute()
            {
                if (input.Position == computedPosition) return;
                var ids = readTokens();
                if (ids.Length == 0)
                    throw new ArgumentException($"Row {input.Position} has no tokens in column '{tokens.Name}'; the encoder needs at least one.", nameof(input));
                parent.Predict(ids, scores);
                predicted = ClassifierTrainer.ArgMax(scores);
                computedPosition = input.Position;
            }

            ValueGetter<uint> predictedLabel = (ref uint value) =>
            {
                Compute();
                value = (uint)predicted + 1;
            };
            ValueGetter<VBuffer<float>> score = (ref VBuffer<float> value) =>
            {
                Compute();
                var editor = VBufferEditor.Create(ref value, scores.Length);
                scores.CopyTo(editor.Values);
                value = editor.Commit();
            };
            return [isOutputActive(0) ? predictedLabel : null, isOutputActive(1) ? score : null];
        }
    }
}
