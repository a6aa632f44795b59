using Pipelines.Components.Text;
using Pipelines.Data;
using Pipelines.Model;

namespace Pipelines.Text;

/// <summary>
/// Learns a byte-level BPE tokenizer from a text column (<c>context.Text.TrainBytePairEncoding()</c>); its
/// transformer adds a column of token ids.
/// </summary>
/// <remarks>
/// Byte-pair encoding (Sennrich et al., arXiv 1508.07909), byte-level as in GPT-2: see
/// <see cref="BytePairEncodingTrainer"/>. Each row is one document: no merge is learned across rows. Training reads
/// the column once and is deterministic. Example: <c>samples/QuickStart</c>.
/// </remarks>
public sealed class BytePairEncodingEstimator : IEstimator<BytePairEncodingTransformer>
{
    private readonly BytePairEncodingTrainerOptions trainerOptions;

    /// <summary>Creates the estimator.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The vocabulary cannot hold the byte tokens and the special tokens.</exception>
    public BytePairEncodingEstimator(PipelineContext context, BytePairEncodingOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        trainerOptions = options.ToTrainerOptions();
    }

    /// <summary>The options.</summary>
    public BytePairEncodingOptions Options { get; }

    /// <inheritdoc/>
    public BytePairEncodingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var textColumn = SchemaValidation.RequireColumn(input.Schema, Options.InputColumnName, ColumnRequirement.Scalar(TextDataViewType.Instance));
        var tokenizer = new BytePairEncodingTrainer(trainerOptions).Train(ReadTexts(input, textColumn));
        return new BytePairEncodingTransformer(tokenizer, Options.OutputColumnName, Options.InputColumnName, Options.ParseSpecialTokens);
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaValidation.RequireColumn(inputSchema, Options.InputColumnName, ColumnRequirement.Scalar(TextDataViewType.Instance));
        return inputSchema.WithColumns(new SchemaShape.Column(Options.OutputColumnName, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Int32, isKey: false));
    }

    private static IEnumerable<string> ReadTexts(IDataView input, DataViewSchema.Column column)
    {
        using var cursor = input.GetRowCursor([column]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        ReadOnlyMemory<char> text = default;
        while (cursor.MoveNext())
        {
            getter(ref text);
            yield return text.ToString();
        }
    }
}

/// <summary>
/// Encodes a text column into a column of token ids (a variable-size <see cref="NumberDataViewType.Int32"/> vector),
/// lazily, row by row, with a fixed <see cref="BytePairEncoding"/>.
/// </summary>
/// <remarks>
/// <c>Decode(Encode(text)) == text</c> for every well-formed string (see <see cref="BytePairEncoding"/>). Immutable
/// and thread-safe. Saved as kind <see cref="KindName"/>: the column names in <c>model.json</c> and the tokenizer's
/// own JSON as the entry <c>tokenizer.json</c>.
/// </remarks>
public sealed class BytePairEncodingTransformer : ITransformer, ICanSaveModel
{
    /// <summary>The kind under which the transformer is saved.</summary>
    public const string KindName = "BytePairEncoding";

    private const string TokenizerEntry = "tokenizer.json";

    /// <summary>Wraps <paramref name="tokenizer"/> (trained here or loaded from a file) as a transformer.</summary>
    /// <param name="tokenizer">The tokenizer.</param>
    /// <param name="outputColumnName">The column of token ids to add.</param>
    /// <param name="inputColumnName">The text column to encode.</param>
    /// <param name="parseSpecialTokens">Whether special tokens' text in the input becomes their ids.</param>
    /// <exception cref="ArgumentException">A column name is empty.</exception>
    public BytePairEncodingTransformer(BytePairEncoding tokenizer, string outputColumnName = "Tokens", string inputColumnName = "Text", bool parseSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputColumnName);
        Tokenizer = tokenizer;
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName;
        ParseSpecialTokens = parseSpecialTokens;
    }

    /// <summary>The tokenizer.</summary>
    public BytePairEncoding Tokenizer { get; }

    /// <summary>The column of token ids.</summary>
    public string OutputColumnName { get; }

    /// <summary>The text column.</summary>
    public string InputColumnName { get; }

    /// <summary>Whether special tokens' text in the input becomes their ids.</summary>
    public bool ParseSpecialTokens { get; }

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <summary>The token ids of <paramref name="text"/>, as the transform computes them.</summary>
    public int[] Encode(string text) => ParseSpecialTokens ? Tokenizer.EncodeWithSpecialTokens(text) : Tokenizer.Encode(text);

    /// <summary>The text of <paramref name="tokens"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> tokens) => Tokenizer.Decode(tokens);

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return RowMappedDataView.CreateSchema(inputSchema, new Mapper(this, inputSchema).OutputColumns);
    }

    /// <inheritdoc/>
    /// <returns>A <see cref="TokenizedDataView"/>, so that a language model after it knows the tokenizer.</returns>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new TokenizedDataView(new RowMappedDataView(input, new Mapper(this, input.Schema)), Tokenizer, OutputColumnName);
    }

    /// <inheritdoc/>
    public void Save(IModelWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteJson(new Description(OutputColumnName, InputColumnName, ParseSpecialTokens));
        using var stream = writer.WriteStream(TokenizerEntry);
        Tokenizer.Save(stream);
    }

    /// <summary>Loads a transformer saved by <see cref="Save"/>.</summary>
    internal static ITransformer Load(IModelReader reader)
    {
        var description = reader.ReadJson<Description>();
        using var stream = reader.OpenStream(TokenizerEntry);
        return new BytePairEncodingTransformer(BytePairEncoding.Load(stream), description.OutputColumnName, description.InputColumnName, description.ParseSpecialTokens);
    }

    private sealed record Description(string OutputColumnName, string InputColumnName, bool ParseSpecialTokens);

    private sealed class Mapper : IRowMapper
    {
        private readonly BytePairEncodingTransformer parent;
        private readonly DataViewSchema.Column source;

        public Mapper(BytePairEncodingTransformer parent, DataViewSchema inputSchema)
        {
            this.parent = parent;
            source = SchemaValidation.RequireColumn(inputSchema, parent.InputColumnName, ColumnRequirement.Scalar(TextDataViewType.Instance));
            InputColumnNames = [parent.InputColumnName];
            OutputColumns = [new DataViewSchema.DetachedColumn(parent.OutputColumnName, new VectorDataViewType(NumberDataViewType.Int32))];
        }

        public IReadOnlyList<string> InputColumnNames { get; }

        public IReadOnlyList<DataViewSchema.DetachedColumn> OutputColumns { get; }

        public Delegate?[] CreateGetters(DataViewRow input, Func<int, bool> isOutputActive)
        {
            if (!isOutputActive(0)) return [null];
            var textGetter = input.GetGetter<ReadOnlyMemory<char>>(source);
            ReadOnlyMemory<char> text = default;
            var cachedPosition = -1L;
            var cached = ReadOnlyMemory<int>.Empty;
            ValueGetter<ReadOnlyMemory<int>> getter = (ref ReadOnlyMemory<int> value) =>
            {
                if (input.Position != cachedPosition)
                {
                    textGetter(ref text);
                    cached = parent.Encode(text.ToString());
                    cachedPosition = input.Position;
                }

                value = cached;
            };
            return [getter];
        }
    }
}
