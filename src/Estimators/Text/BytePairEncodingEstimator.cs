using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Pipelines.Components.Text;
using Pipelines.MachineLearning;

namespace Pipelines.Text;

/// <summary>
/// Learns a byte-level BPE tokenizer from a text column (<c>mlContext.Transforms.Text.TrainBytePairEncoding()</c>);
/// its transformer adds a column of token keys (<see cref="TokenColumn"/>).
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
    public BytePairEncodingEstimator(IHostEnvironment environment, BytePairEncodingOptions options)
    {
        ArgumentNullException.ThrowIfNull(environment);
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
        return inputSchema.WithColumns(SchemaShapes.Column(Options.OutputColumnName, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.UInt32, isKey: true, TokenColumn.AnnotationShape));
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
/// Encodes a text column into a column of token keys (<see cref="TokenColumn"/>), lazily, row by row, with a fixed
/// <see cref="BytePairEncoding"/>.
/// </summary>
/// <remarks>
/// <c>Decode(Encode(text)) == text</c> for every well-formed string (see <see cref="BytePairEncoding"/>). Immutable
/// and thread-safe. Saved by <c>MLContext.Model.Save</c> with the column names in its description and the tokenizer's
/// own JSON as the entry <c>tokenizer.json</c>; <c>MLContext.Model.Load</c> brings it back as this type.
/// </remarks>
[MachineLearningModelLoader(LoaderSignature)]
public sealed class BytePairEncodingTransformer : RowMappingTransformer
{
    private const string LoaderSignature = "PipelinesBytePairEncode";
    private const string TokenizerEntry = "tokenizer.json";
    private static readonly ModelVersion ModelVersion = CreateVersion("PLBPETOK", 0x00010001, LoaderSignature);

    private readonly Lazy<DataViewSchema.Annotations> annotations;

    /// <summary>Wraps <paramref name="tokenizer"/> (trained here or loaded from a file) as a transformer.</summary>
    /// <param name="tokenizer">The tokenizer.</param>
    /// <param name="outputColumnName">The column of token keys to add.</param>
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
        annotations = new(() => TokenColumn.CreateAnnotations(tokenizer));
    }

    /// <summary>The tokenizer.</summary>
    public BytePairEncoding Tokenizer { get; }

    /// <summary>The column of token keys.</summary>
    public string OutputColumnName { get; }

    /// <summary>The text column.</summary>
    public string InputColumnName { get; }

    /// <summary>Whether special tokens' text in the input becomes their ids.</summary>
    public bool ParseSpecialTokens { get; }

    private protected override ModelVersion Version => ModelVersion;

    /// <summary>The token ids of <paramref name="text"/> (0-based; the column holds them plus one), as the transform computes them.</summary>
    public int[] Encode(string text) => ParseSpecialTokens ? Tokenizer.EncodeWithSpecialTokens(text) : Tokenizer.Encode(text);

    /// <summary>The text of <paramref name="tokens"/> (0-based ids).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> tokens) => Tokenizer.Decode(tokens);

    private protected override IRowMapper CreateMapper(DataViewSchema inputSchema) => new Mapper(this, inputSchema);

    private protected override void SaveModel(IModelWriter writer)
    {
        writer.WriteJson(new Description(OutputColumnName, InputColumnName, ParseSpecialTokens));
        using var stream = writer.WriteStream(TokenizerEntry);
        Tokenizer.Save(stream);
    }

    /// <summary>Called by <c>MLContext.Model.Load</c> (registered by <see cref="MachineLearningModelLoaderAttribute"/>).</summary>
    private static BytePairEncodingTransformer Create(IHostEnvironment environment, object loadContext)
    {
        var reader = ModelParts.Open(environment, loadContext, ModelVersion);
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
            InputColumns = [source];
            OutputColumns = [new DataViewSchema.DetachedColumn(parent.OutputColumnName, TokenColumn.Type(parent.Tokenizer.VocabularySize), parent.annotations.Value)];
        }

        public IReadOnlyList<DataViewSchema.Column> InputColumns { get; }

        public IReadOnlyList<DataViewSchema.DetachedColumn> OutputColumns { get; }

        public Delegate?[] CreateGetters(DataViewRow input, Func<int, bool> isOutputActive)
        {
            if (!isOutputActive(0)) return [null];
            var textGetter = input.GetGetter<ReadOnlyMemory<char>>(source);
            ReadOnlyMemory<char> text = default;
            var cachedPosition = -1L;
            var ids = Array.Empty<int>();
            ValueGetter<VBuffer<uint>> getter = (ref VBuffer<uint> value) =>
            {
                if (input.Position != cachedPosition)
                {
                    textGetter(ref text);
                    ids = parent.Encode(text.ToString());
                    cachedPosition = input.Position;
                }

                var editor = VBufferEditor.Create(ref value, ids.Length);
                for (var index = 0; index < ids.Length; index++) editor.Values[index] = (uint)ids[index] + 1;
                value = editor.Commit();
            };
            return [getter];
        }
    }
}
