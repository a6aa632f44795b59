using Pipelines.Components.Text;
using Pipelines.Data;
using Pipelines.Text;

namespace Pipelines.Pretraining;

/// <content>Scoring: whole data sets and rows.</content>
public sealed partial class CausalLanguageModelTransformer
{
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
