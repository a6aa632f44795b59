using Microsoft.Extensions.Logging;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Text;
using Pipelines.Components.Training;
using Pipelines.Data;
using Pipelines.Model;
using Pipelines.Text;

namespace Pipelines.Pretraining;

/// <summary>
/// Pre-trains a GPT on a column of token ids (<c>context.Pretraining.CausalLanguageModel()</c>): the rows are joined
/// into one stream, each preceded by the end-of-text id, and the model learns to predict each next token.
/// </summary>
/// <remarks>
/// Next-token prediction with a decoder-only transformer (Radford et al. 2019, GPT-2) run by
/// <see cref="LanguageModelTrainer"/>: step s trains on random windows drawn from stream s of the seed; the optimizer
/// state is checkpointed with the weights, so a run resumed from a checkpoint (<see cref="CausalLanguageModelOptions.ResumeFrom"/>)
/// ends bit-identical to one never interrupted. Where the vocabulary and the end-of-text id come from: see
/// <see cref="CausalLanguageModelOptions"/>. Example: <c>samples/QuickStart</c>.
/// </remarks>
public sealed partial class CausalLanguageModelEstimator : IEstimator<CausalLanguageModelTransformer>
{
    private readonly ILogger logger;
    private readonly int seed;

    /// <summary>Creates the estimator; the options are checked here once.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Two options conflict (the message names them).</exception>
    public CausalLanguageModelEstimator(PipelineContext context, CausalLanguageModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        seed = options.Seed ?? context.DeriveSeed("Pretraining/CausalLanguageModel");
        logger = context.LoggerFactory.CreateLogger<CausalLanguageModelEstimator>();
    }

    /// <summary>The options.</summary>
    public CausalLanguageModelOptions Options { get; }

    /// <summary>Pre-trains on <paramref name="input"/> without validation data.</summary>
    /// <exception cref="SchemaMismatchException">The token column is missing or not a vector of Int32.</exception>
    public CausalLanguageModelTransformer Fit(IDataView input) => Fit(input, validation: null);

    /// <summary>Pre-trains on <paramref name="train"/>, evaluating on <paramref name="validation"/> as the options say.</summary>
    /// <param name="train">The training rows (one document per row).</param>
    /// <param name="validation">Rows to measure the loss on during training, or null.</param>
    /// <param name="progress">Receives a report after every step (on the training thread).</param>
    /// <param name="cancellationToken">Stops the run before the next step (after writing a checkpoint when checkpointing is on).</param>
    /// <exception cref="SchemaMismatchException">The token column is missing or not a vector of Int32.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token id is negative or outside <see cref="CausalLanguageModelOptions.VocabularySize"/>.</exception>
    /// <exception cref="ArgumentException">No end-of-text id is known, or the data is shorter than one sequence.</exception>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became non-finite (the step is named).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="FileNotFoundException"><see cref="CausalLanguageModelOptions.ResumeFrom"/> names no file.</exception>
    /// <exception cref="InvalidDataException">The checkpoint to resume from does not fit this model and optimizer.</exception>
    public CausalLanguageModelTransformer Fit(IDataView train, IDataView? validation, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Fit(train, validation, progress, cancellationToken, seed, extension: null);

    /// <summary>
    /// The pre-training run with another estimator taking part (e.g. sparse pre-training): <paramref name="extension"/>
    /// sees the model and the run's length and may wrap the optimizer and add training hooks.
    /// </summary>
    internal CausalLanguageModelTransformer Fit(IDataView train, IDataView? validation, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken,
        int runSeed, TrainingExtension? extension)
    {
        ArgumentNullException.ThrowIfNull(train);
        var requirement = ColumnRequirement.Vector(NumberDataViewType.Int32);
        var trainColumn = SchemaValidation.RequireColumn(train.Schema, Options.TokensColumnName, requirement);
        var validationColumn = validation is null ? (DataViewSchema.Column?)null : SchemaValidation.RequireColumn(validation.Schema, Options.TokensColumnName, requirement);

        var tokenizer = TokenizedDataView.FindTokenizer(train, Options.TokensColumnName);
        var endOfText = ResolveEndOfText(tokenizer);
        var trainStream = TokenStream.Read(train, trainColumn, endOfText, nameof(train), cancellationToken);
        var validationStream = validation is null ? null : TokenStream.Read(validation, validationColumn!.Value, endOfText, nameof(validation), cancellationToken);
        var vocabulary = Options.VocabularySize ?? tokenizer?.VocabularySize ?? Math.Max(trainStream.MaximumId, validationStream?.MaximumId ?? 0) + 1;
        trainStream.CheckVocabulary(vocabulary, Options.TokensColumnName, nameof(train));
        validationStream?.CheckVocabulary(vocabulary, Options.TokensColumnName, nameof(validation));
        var sequenceLength = Options.ResolvedSequenceLength;
        trainStream.CheckLength(sequenceLength, nameof(train));
        validationStream?.CheckLength(sequenceLength, nameof(validation));

        var shape = Options.Model;
        var config = new TransformerConfig(shape.LayerCount, shape.HeadCount, shape.Channels, shape.ContextLength, vocabulary);
        var steps = Options.ResolveSteps(trainStream.Tokens.Length);
        var parallelism = new Parallelism(Options.ThreadCount);
        var model = GptModel.Create(config, (ulong)(uint)runSeed, parallelism);
        var schedule = Options.ResolveSchedule(steps);
        var transform = Options.ResolveOptimizer(schedule);
        var hooks = new List<ITrainingHook>(Options.ResolveScheduleHooks(schedule));
        if (extension is not null)
        {
            (transform, var extensionHooks) = extension(model, steps, transform);
            hooks.AddRange(extensionHooks);
        }

        var optimizer = new GradientTransformOptimizer(transform, model.Parameters);
        var trainingOptions = new LanguageModelTrainingOptions
        {
            BatchSize = Options.BatchSize,
            SequenceLength = sequenceLength,
            Steps = steps,
            EvaluationInterval = Options.EvaluationInterval,
            EvaluationBatches = Options.EvaluationBatches,
            Seed = SeededRandom.ForStream((ulong)(uint)runSeed, 1).NextUInt64(),
            CheckpointInterval = Options.CheckpointInterval,
            CheckpointPath = Options.CheckpointPath,
            AcceptedChanges = Options.AcceptedRunChanges,
        };

        LogStart(logger, model.Parameters.ParameterCount, vocabulary, trainStream.Tokens.Length, trainStream.RowCount, steps, Options.BatchSize, sequenceLength);
        var trainer = new LanguageModelTrainer(model, optimizer, trainingOptions, hooks);
        LanguageModelTrainingResult result;
        try
        {
            result = trainer.Train(trainStream.Tokens, validationStream?.Tokens, new LoggingProgress(logger, progress), Options.ResumeFrom, cancellationToken);
        }
        catch (TrainingDivergedException exception)
        {
            LogDiverged(logger, exception.Step, exception.Tensor, exception.Value);
            throw;
        }

        LogEnd(logger, result.Steps, result.History.Count > 0 ? result.History[^1].TrainingLoss : double.NaN, result.FinalValidationLoss);
        var summary = new PretrainingSummary(result.Steps, Options.BatchSize, sequenceLength, runSeed, trainStream.Tokens.Length);
        var columns = new LanguageModelColumns(Options.TokensColumnName, Options.LossColumnName, Options.PerplexityColumnName);
        return new CausalLanguageModelTransformer(config, model.Parameters.Values.ToArray(), endOfText, columns, Options.ThreadCount, result.History, summary);
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaValidation.RequireColumn(inputSchema, Options.TokensColumnName, ColumnRequirement.Vector(NumberDataViewType.Int32));
        return inputSchema.WithColumns(
            new SchemaShape.Column(Options.LossColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, isKey: false),
            new SchemaShape.Column(Options.PerplexityColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, isKey: false));
    }

    private int ResolveEndOfText(BytePairEncoding? tokenizer)
    {
        if (Options.EndOfTextTokenId is { } id) return id;
        if (tokenizer is null)
            throw new ArgumentException(
                $"No end-of-text id is known: the column '{Options.TokensColumnName}' does not come straight from a tokenizer. Set {nameof(CausalLanguageModelOptions.EndOfTextTokenId)}.",
                nameof(CausalLanguageModelOptions.EndOfTextTokenId));
        if (tokenizer.TryGetSpecialTokenId(CausalLanguageModelOptions.EndOfTextToken, out var special)) return special;
        throw new ArgumentException(
            $"The tokenizer has no special token '{CausalLanguageModelOptions.EndOfTextToken}': add it to the tokenizer's special tokens or set {nameof(CausalLanguageModelOptions.EndOfTextTokenId)}.",
            nameof(CausalLanguageModelOptions.EndOfTextTokenId));
    }
}

/// <summary>
/// A pre-trained GPT: <see cref="Transform"/> adds each row's next-token <c>Loss</c> and <c>Perplexity</c>;
/// <see cref="Generate"/> continues a prompt; <see cref="Evaluate(IDataView)"/> measures a whole data set.
/// </summary>
/// <remarks>
/// A row is scored as a document: <c>eot t0 t1 ...</c> predicts every token of the row, so <c>Loss = Σ −ln p(tᵢ | t&lt;ᵢ) / n</c>
/// in nats and <c>Perplexity = exp(Loss)</c>. Rows longer than the context are scored in windows of the context length
/// that do not overlap (each window restarts the context). An empty row has a missing (NaN) loss and perplexity.
/// Immutable and thread-safe: each concurrent caller runs its own copy of the engine model. Results depend only on
/// the weights and <see cref="ThreadCount"/>, which is saved with the model.
/// </remarks>
public sealed partial class CausalLanguageModelTransformer : ITransformer, ICanSaveModel
{
    private readonly LanguageModelScorer scorer;
    private readonly LanguageModelColumns columns;

    internal CausalLanguageModelTransformer(TransformerConfig config, float[] weights, int endOfTextTokenId, LanguageModelColumns columns, int threadCount,
        IReadOnlyList<StepMetrics> history, PretrainingSummary training)
    {
        if ((uint)endOfTextTokenId >= (uint)config.VocabularySize)
            throw new ArgumentOutOfRangeException(nameof(endOfTextTokenId), endOfTextTokenId, $"The end-of-text id must be inside the vocabulary [0, {config.VocabularySize}).");
        scorer = new LanguageModelScorer(config, weights, new Parallelism(threadCount));
        EndOfTextTokenId = endOfTextTokenId;
        this.columns = columns;
        TrainingHistory = [.. history];
        Training = training;
    }

    /// <summary>The model's shape.</summary>
    public TransformerConfig Config => scorer.Config;

    /// <summary>Number of weights.</summary>
    public long ParameterCount => scorer.ParameterCount;

    /// <summary>The id placed before every row (document), in training and in scoring.</summary>
    public int EndOfTextTokenId { get; }

    /// <summary>The column of token ids read.</summary>
    public string TokensColumnName => columns.Tokens;

    /// <summary>The column of per-row losses added.</summary>
    public string LossColumnName => columns.Loss;

    /// <summary>The column of per-row perplexities added.</summary>
    public string PerplexityColumnName => columns.Perplexity;

    /// <summary>Threads the model runs on.</summary>
    public int ThreadCount => scorer.Parallelism.ThreadCount;

    /// <summary>Every step of the training run: training loss, learning rate and, where measured, validation loss.</summary>
    public IReadOnlyList<StepMetrics> TrainingHistory { get; }

    /// <summary>How the model was trained.</summary>
    public PretrainingSummary Training { get; }

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <summary>A new engine model holding the trained weights (the caller owns it; training it leaves this transformer unchanged).</summary>
    public GptModel CreateModel() => scorer.CreateModel();

    /// <summary>Continues <paramref name="promptTokens"/> by <paramref name="count"/> sampled tokens.</summary>
    /// <param name="promptTokens">The prompt; empty starts a new document (the end-of-text id is the prompt).</param>
    /// <param name="count">Tokens to generate.</param>
    /// <param name="options">Temperature, top-k and seed (default <see cref="GenerationOptions"/>); the same seed gives the same tokens.</param>
    /// <param name="cancellationToken">Stops before the next token.</param>
    /// <exception cref="ArgumentOutOfRangeException">A prompt id is outside the vocabulary, <paramref name="count"/> is negative, or an option is out of range.</exception>
    public int[] Generate(ReadOnlySpan<int> promptTokens, int count, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var prompt = promptTokens.IsEmpty ? [EndOfTextTokenId] : promptTokens;
        return scorer.Generate(prompt, count, options ?? new GenerationOptions(), cancellationToken);
    }

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return RowMappedDataView.CreateSchema(inputSchema, new Mapper(this, inputSchema).OutputColumns);
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new RowMappedDataView(input, new Mapper(this, input.Schema));
    }

    /// <summary>The weights, laid out as the arena of a <see cref="GptModel"/> of <see cref="Config"/>.</summary>
    internal ReadOnlySpan<float> Weights => scorer.Weights;
}
