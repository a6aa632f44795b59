using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.Components.Text;
using Pipelines.MachineLearning;
using Pipelines.Text;

namespace Pipelines.Pretraining;

/// <content>Scoring: whole data sets and rows.</content>
public sealed partial class CausalLanguageModelTransformer
{
    /// <summary>
    /// Measures the model on every row of <paramref name="data"/>: loss, perplexity and, when the token column carries
    /// its tokenizer (or the model has one), bits per byte.
    /// </summary>
    /// <remarks><c>BitsPerByte = Σ loss / (ln 2 · bytes)</c> over the UTF-8 bytes of the scored tokens.</remarks>
    /// <exception cref="SchemaMismatchException">The token column is missing, not a vector of keys, or has more keys than the model's vocabulary.</exception>
    /// <exception cref="ArgumentException">The data holds no token.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public LanguageModelMetrics Evaluate(IDataView data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var column = RequireTokens(data.Schema, this);
        var tokenizer = TokenColumn.FindTokenizer(column) ?? Tokenizer;
        using var cursor = data.GetRowCursor([column]);
        var read = TokenColumn.CreateReader(cursor, column);
        double lossSum = 0;
        long tokenCount = 0, byteCount = 0, rowCount = 0;
        while (cursor.MoveNext())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var tokens = read();
            var score = scorer.Score(tokens, EndOfTextTokenId, $"column '{TokensColumnName}', row {rowCount}");
            lossSum += score.LossSum;
            tokenCount += score.TokenCount;
            if (tokenizer is not null)
                foreach (var id in tokens) byteCount += tokenizer.GetTokenBytes(id).Length;
            rowCount++;
        }

        if (tokenCount == 0) throw new ArgumentException($"The data holds no token to score ({rowCount} rows).", nameof(data));
        var loss = lossSum / tokenCount;
        double? bitsPerByte = tokenizer is not null && byteCount > 0 ? lossSum / (Math.Log(2) * byteCount) : null;
        return new LanguageModelMetrics(loss, Math.Exp(loss), bitsPerByte, tokenCount, tokenizer is null ? null : byteCount, rowCount);
    }

    /// <summary>The token column of <paramref name="schema"/>, checked to hold keys inside the model's vocabulary.</summary>
    private static DataViewSchema.Column RequireTokens(DataViewSchema schema, CausalLanguageModelTransformer model)
    {
        var column = SchemaValidation.RequireColumn(schema, model.TokensColumnName, TokenColumn.Requirement);
        if (TokenColumn.VocabularySize(column) > model.Config.VocabularySize)
            throw new SchemaMismatchException(column.Name, $"Vector<Key<UInt32, {model.Config.VocabularySize}>> (at most the model's vocabulary)", column.Type.ToString()!, nameof(schema));
        return column;
    }

    /// <summary>Adds the loss and perplexity columns, scoring a row once when either is first read.</summary>
    private sealed class Mapper : IRowMapper
    {
        private readonly CausalLanguageModelTransformer parent;
        private readonly DataViewSchema.Column source;

        public Mapper(CausalLanguageModelTransformer parent, DataViewSchema inputSchema)
        {
            this.parent = parent;
            source = RequireTokens(inputSchema, parent);
            InputColumns = [source];
            OutputColumns =
            [
                new DataViewSchema.DetachedColumn(parent.LossColumnName, NumberDataViewType.Single),
                new DataViewSchema.DetachedColumn(parent.PerplexityColumnName, NumberDataViewType.Single),
            ];
        }

        public IReadOnlyList<DataViewSchema.Column> InputColumns { get; }

        public IReadOnlyList<DataViewSchema.DetachedColumn> OutputColumns { get; }

        public Delegate?[] CreateGetters(DataViewRow input, Func<int, bool> isOutputActive)
        {
            if (!isOutputActive(0) && !isOutputActive(1)) return [null, null];
            var read = TokenColumn.CreateReader(input, source);
            var cachedPosition = -1L;
            var loss = double.NaN;

            double RowLoss()
            {
                if (input.Position == cachedPosition) return loss;
                loss = parent.scorer.Score(read(), parent.EndOfTextTokenId, $"column '{parent.TokensColumnName}', row {input.Position}").MeanLoss;
                cachedPosition = input.Position;
                return loss;
            }

            ValueGetter<float> lossGetter = (ref float value) => value = (float)RowLoss();
            ValueGetter<float> perplexityGetter = (ref float value) => value = (float)Math.Exp(RowLoss());
            return [isOutputActive(0) ? lossGetter : null, isOutputActive(1) ? perplexityGetter : null];
        }
    }
}
