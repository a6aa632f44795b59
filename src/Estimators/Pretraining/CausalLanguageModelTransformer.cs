using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Text;
using Pipelines.Components.Training;
using Pipelines.Data;
using Pipelines.Model;
using Pipelines.Text;

namespace Pipelines.Pretraining;

/// <summary>What a pre-training run was: enough to read a saved model's provenance.</summary>
/// <param name="Steps">Updates made.</param>
/// <param name="BatchSize">Sequences per step.</param>
/// <param name="SequenceLength">Tokens per sequence.</param>
/// <param name="Seed">Seed of the initial weights and the batch order.</param>
/// <param name="TrainingTokenCount">Tokens in the training stream (separators included).</param>
public sealed record PretrainingSummary(long Steps, int BatchSize, int SequenceLength, int Seed, long TrainingTokenCount);

/// <summary>The columns a language model reads and adds.</summary>
internal sealed record LanguageModelColumns(string Tokens, string Loss, string Perplexity);

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
    public long ParameterCount => scorer.Weights.Length;

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

    /// <summary>Measures the model on every row of <paramref name="data"/>; bits per byte when the tokens come straight from a tokenizer.</summary>
    /// <exception cref="SchemaMismatchException">The token column is missing or not a vector of Int32.</exception>
    /// <exception cref="ArgumentException">The data holds no token.</exception>
    public LanguageModelMetrics Evaluate(IDataView data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Evaluate(data, TokenizedDataView.FindTokenizer(data, TokensColumnName));
    }

    /// <summary>Measures the model on every row of <paramref name="data"/>, counting bytes with <paramref name="tokenizer"/> when given.</summary>
    /// <exception cref="SchemaMismatchException">The token column is missing or not a vector of Int32.</exception>
    /// <exception cref="ArgumentException">The data holds no token.</exception>
    public LanguageModelMetrics Evaluate(IDataView data, BytePairEncoding? tokenizer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var column = SchemaValidation.RequireColumn(data.Schema, TokensColumnName, ColumnRequirement.Vector(NumberDataViewType.Int32));
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<ReadOnlyMemory<int>>(column);
        ReadOnlyMemory<int> tokens = default;
        double lossSum = 0;
        long tokenCount = 0, byteCount = 0, rowCount = 0;
        while (cursor.MoveNext())
        {
            cancellationToken.ThrowIfCancellationRequested();
            getter(ref tokens);
            var score = scorer.Score(tokens.Span, EndOfTextTokenId, $"column '{TokensColumnName}', row {rowCount}");
            lossSum += score.LossSum;
            tokenCount += score.TokenCount;
            if (tokenizer is not null)
                foreach (var id in tokens.Span) byteCount += tokenizer.GetTokenBytes(id).Length;
            rowCount++;
        }

        if (tokenCount == 0) throw new ArgumentException($"The data holds no token to score ({rowCount} rows).", nameof(data));
        var loss = lossSum / tokenCount;
        double? bitsPerByte = tokenizer is not null && byteCount > 0 ? lossSum / (Math.Log(2) * byteCount) : null;
        return new LanguageModelMetrics(loss, Math.Exp(loss), bitsPerByte, tokenCount, tokenizer is null ? null : byteCount, rowCount);
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

    /// <summary>Adds the loss and perplexity columns, scoring a row once when either is first read.</summary>
    private sealed class Mapper : IRowMapper
    {
        private readonly CausalLanguageModelTransformer parent;
        private readonly DataViewSchema.Column source;

        public Mapper(CausalLanguageModelTransformer parent, DataViewSchema inputSchema)
        {
            this.parent = parent;
            source = SchemaValidation.RequireColumn(inputSchema, parent.TokensColumnName, ColumnRequirement.Vector(NumberDataViewType.Int32));
            InputColumnNames = [parent.TokensColumnName];
            OutputColumns =
            [
                new DataViewSchema.DetachedColumn(parent.LossColumnName, NumberDataViewType.Single),
                new DataViewSchema.DetachedColumn(parent.PerplexityColumnName, NumberDataViewType.Single),
            ];
        }

        public IReadOnlyList<string> InputColumnNames { get; }

        public IReadOnlyList<DataViewSchema.DetachedColumn> OutputColumns { get; }

        public Delegate?[] CreateGetters(DataViewRow input, Func<int, bool> isOutputActive)
        {
            if (!isOutputActive(0) && !isOutputActive(1)) return [null, null];
            var tokensGetter = input.GetGetter<ReadOnlyMemory<int>>(source);
            ReadOnlyMemory<int> tokens = default;
            var cachedPosition = -1L;
            var loss = double.NaN;

            double RowLoss()
            {
                if (input.Position == cachedPosition) return loss;
                tokensGetter(ref tokens);
                loss = parent.scorer.Score(tokens.Span, parent.EndOfTextTokenId, $"column '{parent.TokensColumnName}', row {input.Position}").MeanLoss;
                cachedPosition = input.Position;
                return loss;
            }

            ValueGetter<float> lossGetter = (ref float value) => value = (float)RowLoss();
            ValueGetter<float> perplexityGetter = (ref float value) => value = (float)Math.Exp(RowLoss());
            return [isOutputActive(0) ? lossGetter : null, isOutputActive(1) ? perplexityGetter : null];
        }
    }
}
