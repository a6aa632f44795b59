using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Pipelines.Components.Backends;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Serialization;
using Pipelines.Components.Text;
using Pipelines.Components.Training;
using Pipelines.MachineLearning;
using Pipelines.Text;

namespace Pipelines.Pretraining;

/// <summary>
/// Pre-trains a GPT on a column of token keys (<c>mlContext.Pretraining().CausalLanguageModel()</c>): the rows are
/// joined into one stream, each preceded by the end-of-text id, and the model learns to predict each next token.
/// </summary>
/// <remarks>
/// Next-token prediction with a decoder-only transformer (Radford et al. 2019, GPT-2) trained on
/// <see cref="CausalLanguageModelOptions.Backend"/> (by default the managed engine's <see cref="LanguageModelTrainer"/>): minimise <c>L = −(1/T) Σₜ ln p(xₜ₊₁ | x≤ₜ)</c> over random windows, step s
/// drawing its batch from stream s of the seed. The optimizer state is checkpointed with the weights, so a run resumed
/// from a checkpoint (<see cref="CausalLanguageModelOptions.ResumeFrom"/>) ends bit-identical to one never interrupted.
/// The vocabulary is the token column's key count; the end-of-text id comes from the tokenizer the column carries (see
/// <see cref="CausalLanguageModelOptions"/>). Messages go to the host's channel, hence to <c>MLContext.Log</c>.
/// Example: <c>samples/QuickStart</c>.
/// </remarks>
public sealed class CausalLanguageModelEstimator : IEstimator<CausalLanguageModelTransformer>
{
    private const string HostName = "CausalLanguageModel";
    private readonly IHost host;
    private readonly int seed;

    /// <summary>Creates the estimator; the options are checked here once and the seed is drawn now unless given.</summary>
    /// <param name="environment">The <see cref="MLContext"/> (or another ML.NET host environment).</param>
    /// <param name="options">The run.</param>
    /// <exception cref="ArgumentOutOfRangeException">Two options conflict (the message names them).</exception>
    public CausalLanguageModelEstimator(IHostEnvironment environment, CausalLanguageModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        host = environment.Register(HostName);
        seed = options.Seed ?? host.Rand.Next();
    }

    /// <summary>The options.</summary>
    public CausalLanguageModelOptions Options { get; }

    /// <summary>The seed of the run: <see cref="CausalLanguageModelOptions.Seed"/>, or the one drawn when the estimator was made.</summary>
    public int Seed => seed;

    /// <summary>Pre-trains on <paramref name="input"/>, with the validation set, progress, cancellation and checkpoints of <see cref="Options"/>.</summary>
    /// <exception cref="SchemaMismatchException">The token column (of the input or the validation set) is missing or not a vector of keys.</exception>
    /// <exception cref="ArgumentException">No end-of-text id is known, or the data is shorter than one sequence.</exception>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became non-finite (the step is named).</exception>
    /// <exception cref="OperationCanceledException">The options' cancellation token was cancelled.</exception>
    /// <exception cref="FileNotFoundException"><see cref="CausalLanguageModelOptions.ResumeFrom"/> names no file.</exception>
    /// <exception cref="InvalidDataException">The checkpoint to resume from does not fit this model and optimizer.</exception>
    public CausalLanguageModelTransformer Fit(IDataView input) => Fit(input, seed, Options.Progress, extension: null);

    /// <summary>
    /// The pre-training run with another estimator taking part (sparse pre-training): <paramref name="extension"/> sees
    /// the model and the run's length and may wrap the optimizer and add training hooks.
    /// </summary>
    internal CausalLanguageModelTransformer Fit(IDataView input, int runSeed, IProgress<TrainingProgress>? progress, TrainingExtension? extension)
    {
        ArgumentNullException.ThrowIfNull(input);
        var cancellationToken = Options.CancellationToken;
        var column = SchemaValidation.RequireColumn(input.Schema, Options.TokensColumnName, TokenColumn.Requirement);
        var vocabulary = TokenColumn.VocabularySize(column);
        var tokenizer = TokenColumn.FindTokenizer(column);
        var endOfText = ResolveEndOfText(tokenizer, vocabulary);
        var trainStream = TokenStream.Read(input, column, endOfText, cancellationToken);
        var validationStream = ReadValidation(tokenizer, vocabulary, endOfText);
        var sequenceLength = Options.ResolvedSequenceLength;
        trainStream.CheckLength(sequenceLength, nameof(input));
        validationStream?.CheckLength(sequenceLength, nameof(CausalLanguageModelOptions.ValidationSet));

        var shape = Options.Model;
        var config = new TransformerConfig(shape.LayerCount, shape.HeadCount, shape.Channels, shape.ContextLength, vocabulary);
        var steps = Options.ResolveSteps(trainStream.Tokens.Length);
        var backend = Options.ResolveBackend();
        var model = backend.CreateLanguageModel(config, (ulong)(uint)runSeed);
        var schedule = Options.ResolveSchedule(steps);
        var transform = Options.ResolveOptimizer(schedule);
        var hooks = new List<ITrainingHook>(Options.ResolveScheduleHooks(schedule));
        if (extension is not null)
        {
            var parameters = model is ManagedLanguageModel managed ? managed.Parameters : new GptModel(config, Parallelism.Sequential).Parameters;
            (transform, var extensionHooks) = extension(model, parameters, steps, transform);
            hooks.AddRange(extensionHooks);
        }

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

        using var channel = host.Start("Pre-training");
        channel.Info(MessageSensitivity.None, Invariant($"Pre-training a GPT of {model.ParameterCount} parameters (vocabulary {vocabulary}) on the {backend.Name} backend on {trainStream.Tokens.Length} tokens in {trainStream.RowCount} rows: {steps} steps of {Options.BatchSize} x {sequenceLength} tokens, seed {runSeed}"));
        var run = new LanguageModelTrainingRun(trainStream.Tokens, validationStream?.Tokens, transform, trainingOptions)
        {
            Hooks = hooks,
            Progress = new LoggingProgress(channel, progress),
            ResumeFrom = Options.ResumeFrom,
            CancellationToken = cancellationToken,
        };
        LanguageModelTrainingResult result;
        try
        {
            result = model.Train(run);
        }
        catch (TrainingDivergedException exception)
        {
            channel.Error(MessageSensitivity.None, Invariant($"Pre-training diverged at step {exception.Step}: {exception.Tensor} is {exception.Value}"));
            throw;
        }

        var finalLoss = result.History.Count > 0 ? result.History[^1].TrainingLoss : double.NaN;
        channel.Info(MessageSensitivity.None, Invariant($"Pre-training ended after {result.Steps} steps: training loss {finalLoss:F4}, validation loss {result.FinalValidationLoss:F4}"));
        var summary = new PretrainingSummary(result.Steps, Options.BatchSize, sequenceLength, runSeed, trainStream.Tokens.Length);
        var columns = new LanguageModelColumns(Options.TokensColumnName, Options.LossColumnName, Options.PerplexityColumnName);
        return new CausalLanguageModelTransformer(model, endOfText, columns, Options.ThreadCount, result.History, summary, tokenizer);
    }

    /// <inheritdoc/>
    /// <exception cref="SchemaMismatchException">The token column is missing or not a vector of keys.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaValidation.RequireColumn(inputSchema, Options.TokensColumnName, TokenColumn.Requirement);
        return inputSchema.WithColumns(
            SchemaShapes.Column(Options.LossColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, isKey: false),
            SchemaShapes.Column(Options.PerplexityColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, isKey: false));
    }

    private TokenStream? ReadValidation(BytePairEncoding? tokenizer, int vocabulary, int endOfText)
    {
        if (Options.ValidationSet is not { } validation) return null;
        const string parameter = nameof(CausalLanguageModelOptions.ValidationSet);
        if (validation.Schema.GetColumnOrNull(Options.TokensColumnName) is { IsHidden: false } tokens)
        {
            SchemaValidation.RequireColumn(validation.Schema, Options.TokensColumnName, TokenColumn.Requirement);
            if (TokenColumn.VocabularySize(tokens) > vocabulary)
                throw new SchemaMismatchException(tokens.Name, $"Vector<Key<UInt32, {vocabulary}>> (the training vocabulary)", tokens.Type.ToString()!, parameter);
            return TokenStream.Read(validation, tokens, endOfText, Options.CancellationToken);
        }

        if (tokenizer is not null && validation.Schema.GetColumnOrNull(Options.ValidationTextColumnName) is { IsHidden: false })
        {
            var text = SchemaValidation.RequireColumn(validation.Schema, Options.ValidationTextColumnName, ColumnRequirement.Scalar(TextDataViewType.Instance));
            return TokenStream.Encode(validation, text, tokenizer, endOfText, Options.CancellationToken);
        }

        throw SchemaMismatchException.Missing(Options.TokensColumnName,
            $"{TokenColumn.Requirement.Description}, or text in '{Options.ValidationTextColumnName}' when the training tokens carry their tokenizer",
            validation.Schema.DescribeNames(), parameter);
    }

    private int ResolveEndOfText(BytePairEncoding? tokenizer, int vocabulary)
    {
        if (Options.EndOfTextTokenId is { } id)
        {
            return id < vocabulary ? id : throw OptionChecks.OutOfRange(nameof(CausalLanguageModelOptions.EndOfTextTokenId), id,
                $"Must be below the vocabulary of the column '{Options.TokensColumnName}' ({vocabulary}).");
        }

        if (tokenizer is null)
            throw new ArgumentException(
                $"No end-of-text id is known: the column '{Options.TokensColumnName}' carries no tokenizer. Set {nameof(CausalLanguageModelOptions.EndOfTextTokenId)}.",
                nameof(CausalLanguageModelOptions.EndOfTextTokenId));
        if (tokenizer.TryGetSpecialTokenId(CausalLanguageModelOptions.EndOfTextToken, out var special)) return special;
        throw new ArgumentException(
            $"The tokenizer has no special token '{CausalLanguageModelOptions.EndOfTextToken}': add it to the tokenizer's special tokens or set {nameof(CausalLanguageModelOptions.EndOfTextTokenId)}.",
            nameof(CausalLanguageModelOptions.EndOfTextTokenId));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Forwards progress to the caller and logs each new validation loss.</summary>
    private sealed class LoggingProgress(IChannel channel, IProgress<TrainingProgress>? inner) : IProgress<TrainingProgress>
    {
        private double? lastValidation;

        public void Report(TrainingProgress value)
        {
            if (value.ValidationLoss is { } validation && validation != lastValidation)
            {
                lastValidation = validation;
                channel.Info(MessageSensitivity.None, Invariant($"Step {value.Step}: validation loss {validation:F4}"));
            }

            inner?.Report(value);
        }
    }
}

/// <summary>
/// A pre-trained GPT: <c>Transform</c> adds each row's next-token <c>Loss</c> and <c>Perplexity</c>;
/// <see cref="Generate"/> and <see cref="GenerateText"/> continue a prompt; <see cref="Evaluate"/> measures a whole data set.
/// </summary>
/// <remarks>
/// A row is scored as a document: <c>eot t0 t1 ...</c> predicts every token of the row, so <c>Loss = Σ −ln p(tᵢ | t&lt;ᵢ) / n</c>
/// in nats and <c>Perplexity = exp(Loss)</c>. Rows longer than the context are scored in windows of the context length
/// that do not overlap (each window restarts the context). An empty row has a missing (NaN) loss and perplexity.
/// Immutable and thread-safe: each concurrent caller runs its own copy of the engine model. Results depend only on
/// the weights and <see cref="ThreadCount"/>, which is saved with the model. <c>MLContext.Model.Save</c> writes it and
/// <c>MLContext.Model.Load</c> brings it back as this type, in any process.
/// </remarks>
[MachineLearningModelLoader(LoaderSignature)]
public sealed partial class CausalLanguageModelTransformer : RowMappingTransformer
{
    private readonly LanguageModelScorer scorer;
    private readonly LanguageModelColumns columns;

    internal CausalLanguageModelTransformer(IBackendLanguageModel model, int endOfTextTokenId, LanguageModelColumns columns, int threadCount,
        IReadOnlyList<StepMetrics> history, PretrainingSummary training, BytePairEncoding? tokenizer)
    {
        var config = model.Config;
        if ((uint)endOfTextTokenId >= (uint)config.VocabularySize)
            throw new ArgumentOutOfRangeException(nameof(endOfTextTokenId), endOfTextTokenId, $"The end-of-text id must be inside the vocabulary [0, {config.VocabularySize}).");
        if (tokenizer is not null && tokenizer.VocabularySize != config.VocabularySize)
            throw new ArgumentException($"The tokenizer's vocabulary ({tokenizer.VocabularySize}) differs from the model's ({config.VocabularySize}).", nameof(tokenizer));
        scorer = new LanguageModelScorer(model);
        ThreadCount = threadCount;
        EndOfTextTokenId = endOfTextTokenId;
        this.columns = columns;
        TrainingHistory = [.. history];
        Training = training;
        Tokenizer = tokenizer;
    }

    /// <summary>The model's shape.</summary>
    public TransformerConfig Config => scorer.Config;

    /// <summary>Number of weights.</summary>
    public long ParameterCount => scorer.ParameterCount;

    /// <summary>The id placed before every row (document), in training and in scoring.</summary>
    public int EndOfTextTokenId { get; }

    /// <summary>The tokenizer the training tokens carried (see <see cref="TokenColumn"/>), or null when they carried none.</summary>
    public BytePairEncoding? Tokenizer { get; }

    /// <summary>The column of token keys read.</summary>
    public string TokensColumnName => columns.Tokens;

    /// <summary>The column of per-row losses added.</summary>
    public string LossColumnName => columns.Loss;

    /// <summary>The column of per-row perplexities added.</summary>
    public string PerplexityColumnName => columns.Perplexity;

    /// <summary>Threads the managed engine runs the model on once loaded from a model file (saved with it).</summary>
    public int ThreadCount { get; }

    /// <summary>The model behind the boundary, on the backend that trained it (or the managed one after loading).</summary>
    public IBackendLanguageModel Model => scorer.Model;

    /// <summary>Every step of the training run: training loss, learning rate and, where measured, validation loss.</summary>
    public IReadOnlyList<StepMetrics> TrainingHistory { get; }

    /// <summary>How the model was trained.</summary>
    public PretrainingSummary Training { get; }

    /// <summary>A new engine model holding the trained weights (the caller owns it; training it leaves this transformer unchanged).</summary>
    public GptModel CreateModel()
    {
        if (scorer.Model is ManagedLanguageModel managed) return managed.CreateModel();
        using var tensors = new MemoryStream();
        scorer.Model.SaveSafeTensors(tensors);
        tensors.Position = 0;
        var model = new GptModel(Config, new Parallelism(ThreadCount));
        model.Parameters.LoadSafeTensors(tensors);
        return model;
    }

    /// <summary>Continues <paramref name="promptTokens"/> by <paramref name="count"/> sampled tokens.</summary>
    /// <param name="promptTokens">The prompt (0-based ids); empty starts a new document (the end-of-text id is the prompt).</param>
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

    /// <summary>Continues <paramref name="prompt"/> by <paramref name="tokenCount"/> tokens and returns the continuation's text.</summary>
    /// <remarks>The continuation may contain the end-of-text token's text where the model ended a document.</remarks>
    /// <exception cref="InvalidOperationException">The model has no <see cref="Tokenizer"/>.</exception>
    public string GenerateText(string prompt, int tokenCount, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var tokenizer = Tokenizer ?? throw new InvalidOperationException("The model was trained on tokens without a tokenizer: use Generate with token ids.");
        return tokenizer.Decode(Generate(tokenizer.Encode(prompt), tokenCount, options, cancellationToken));
    }

    /// <summary>The weights, laid out as the arena of a <see cref="GptModel"/> of <see cref="Config"/>.</summary>
    internal ReadOnlySpan<float> Weights => CreateModel().Parameters.Values;

    /// <summary>The mapper adding the loss and perplexity columns (shared with the sparse model, which scores as this one).</summary>
    internal IRowMapper CreateScoringMapper(DataViewSchema inputSchema) => new Mapper(this, inputSchema);

    private protected override IRowMapper CreateMapper(DataViewSchema inputSchema) => CreateScoringMapper(inputSchema);
}
