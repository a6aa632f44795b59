using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.Text;

namespace Pipelines.Estimators.Tests.Text;

[TestClass]
public sealed class BytePairEncodingEstimatorTests
{
    private static readonly string[] Texts =
    [
        "the cat sat on the mat. the cat sat on the hat.",
        "Thé café servait des crêpes — naïve façade, 東京 and 🙂🙃 emoji.",
        "",
        "  leading and trailing spaces  \n second line\twith a tab",
        "the mat, the hat, the cat: <|endoftext|> is plain text here",
    ];

    public sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    public sealed class NumberRow
    {
        public float Text { get; set; }
    }

    public sealed class CountedRow(Action onRead)
    {
        private readonly string text = "";

        public CountedRow() : this(() => { }) { }

        public string Source { get; set; } = "";

        public string Text
        {
            get { onRead(); return text; }
            init => text = value;
        }
    }

    private static IDataView Load(MLContext context, IEnumerable<string> texts) =>
        context.Data.LoadFromEnumerable(texts.Select(text => new TextRow { Text = text }));

    private static List<int[]> ReadTokens(IDataView data, string columnName = "Tokens")
    {
        var column = data.Schema[columnName];
        using var cursor = data.GetRowCursor([column]);
        var read = TokenColumn.CreateReader(cursor, column);
        var rows = new List<int[]>();
        while (cursor.MoveNext()) rows.Add(read());

        return rows;
    }

    [TestMethod]
    public void TransformRoundTripsEveryRowThroughThePipeline()
    {
        var context = new MLContext(1);
        var data = Load(context, Texts);

        var tokenizer = context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 280).Fit(data);
        var tokens = ReadTokens(tokenizer.Transform(data));

        Assert.HasCount(Texts.Length, tokens);
        for (var row = 0; row < Texts.Length; row++) Assert.AreEqual(Texts[row], tokenizer.Decode(tokens[row]), $"row {row}");
        Assert.IsEmpty(tokens[2]);
        Assert.IsLessThan(System.Text.Encoding.UTF8.GetByteCount(Texts[0]), tokens[0].Length, "merges shorten the repeated text");
    }

    [TestMethod]
    public void OutputIsAVariableSizeKeyVectorAndCarriesTheTokenizer()
    {
        var context = new MLContext(1);
        var data = Load(context, Texts);
        var estimator = context.Transforms.Text.TrainBytePairEncoding("Ids", "Text", vocabularySize: 280);

        var shape = estimator.GetOutputSchema(SchemaShapes.FromSchema(data.Schema));
        var tokenizer = estimator.Fit(data);
        var output = tokenizer.Transform(data);

        var column = shape.Single(candidate => candidate.Name == "Ids");
        Assert.AreEqual(SchemaShape.Column.VectorKind.VariableVector, column.Kind);
        Assert.IsTrue(column.IsKey);
        Assert.AreEqual(TokenColumn.Type(tokenizer.Tokenizer.VocabularySize), output.Schema["Ids"].Type);
        Assert.AreEqual(tokenizer.GetOutputSchema(data.Schema)["Ids"].Type, output.Schema["Ids"].Type);
        Assert.AreEqual(tokenizer.Tokenizer.ToJson(), TokenColumn.FindTokenizer(output.Schema["Ids"])!.ToJson());
        Assert.IsNull(TokenColumn.FindTokenizer(output.Schema["Text"]));
    }

    [TestMethod]
    public void SpecialTokensGetTheLastIdsAndAreParsedOnlyWhenAsked()
    {
        var context = new MLContext(1);
        var data = Load(context, Texts);

        var plain = context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 280).Fit(data);
        var parsing = context.Transforms.Text.TrainBytePairEncoding(new BytePairEncodingOptions { VocabularySize = 280, ParseSpecialTokens = true }).Fit(data);
        var endOfText = plain.Tokenizer.GetSpecialTokenId(BytePairEncodingOptions.EndOfTextToken);

        Assert.AreEqual(plain.Tokenizer.VocabularySize - 1, endOfText);
        CollectionAssert.DoesNotContain(plain.Encode("a <|endoftext|> b"), endOfText);
        CollectionAssert.Contains(parsing.Encode("a <|endoftext|> b"), endOfText);
        Assert.AreEqual("a <|endoftext|> b", parsing.Decode(parsing.Encode("a <|endoftext|> b")));
    }

    [TestMethod]
    public void FittingIsDeterministic()
    {
        var context = new MLContext(1);
        var data = Load(context, Texts);
        var estimator = context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 280);

        var first = estimator.Fit(data).Tokenizer;
        var second = estimator.Fit(data).Tokenizer;

        Assert.AreEqual(first.ToJson(), second.ToJson());
    }

    [TestMethod]
    public void SavedAndLoadedTokenizerEncodesTheSame()
    {
        var context = new MLContext(1);
        var data = Load(context, Texts);
        var tokenizer = context.Transforms.Text.TrainBytePairEncoding(new BytePairEncodingOptions("Ids", "Text") { VocabularySize = 280, ParseSpecialTokens = true }).Fit(data);
        using var file = new MemoryStream();

        context.Model.Save(tokenizer, data.Schema, file);
        file.Position = 0;
        var loadedModel = new MLContext(2).Model.Load(file, out var schema);
        var loaded = loadedModel as BytePairEncodingTransformer ?? ((IEnumerable<ITransformer>)loadedModel).OfType<BytePairEncodingTransformer>().Single();

        Assert.AreEqual("Ids", loaded.OutputColumnName);
        Assert.IsTrue(loaded.ParseSpecialTokens);
        Assert.AreEqual(tokenizer.Tokenizer.ToJson(), loaded.Tokenizer.ToJson());
        Assert.IsNotNull(schema);
        var expected = ReadTokens(tokenizer.Transform(data), "Ids");
        var actual = ReadTokens(loaded.Transform(data), "Ids");
        Assert.HasCount(expected.Count, actual);
        for (var row = 0; row < expected.Count; row++) CollectionAssert.AreEqual(expected[row], actual[row]);
    }

    [TestMethod]
    public void MissingOrWronglyTypedTextColumnIsNamed()
    {
        var context = new MLContext(1);
        var texts = Load(context, Texts);
        var numbers = context.Data.LoadFromEnumerable([new NumberRow { Text = 1 }]);
        var estimator = context.Transforms.Text.TrainBytePairEncoding(inputColumnName: "Body", vocabularySize: 280);
        var fitted = context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 280).Fit(texts);

        var missing = Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.Fit(texts));
        var missingShape = Assert.ThrowsExactly<SchemaMismatchException>(() => estimator.GetOutputSchema(SchemaShapes.FromSchema(texts.Schema)));
        var wrongType = Assert.ThrowsExactly<SchemaMismatchException>(() => context.Transforms.Text.TrainBytePairEncoding().Fit(numbers));
        var wrongTransform = Assert.ThrowsExactly<SchemaMismatchException>(() => fitted.Transform(numbers));

        Assert.AreEqual("Body", missing.ColumnName);
        Assert.AreEqual("Body", missingShape.ColumnName);
        Assert.AreEqual("Text", wrongType.ColumnName);
        Assert.AreEqual("Single", wrongType.ActualType);
        Assert.AreEqual("Text", wrongTransform.ColumnName);
    }

    [TestMethod]
    [DataRow(256)]
    [DataRow(0)]
    [DataRow(1 << 25)]
    public void VocabularySizeOutOfRangeIsNamed(int vocabularySize)
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BytePairEncodingOptions { VocabularySize = vocabularySize });

        Assert.AreEqual(nameof(BytePairEncodingOptions.VocabularySize), error.ParamName);
        Assert.AreEqual(vocabularySize, error.ActualValue);
    }

    [TestMethod]
    public void BadOptionsAreNamed()
    {
        var context = new MLContext(1);

        var tooManySpecials = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 257, specialTokens: ["<a>", "<b>"]));
        var frequency = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BytePairEncodingOptions { MinimumPairFrequency = 0 });
        var repeated = Assert.ThrowsExactly<ArgumentException>(() => new BytePairEncodingOptions { SpecialTokens = ["<a>", "<a>"] });
        var empty = Assert.ThrowsExactly<ArgumentException>(() => new BytePairEncodingOptions(" "));

        Assert.AreEqual(nameof(BytePairEncodingOptions.VocabularySize), tooManySpecials.ParamName);
        Assert.AreEqual(nameof(BytePairEncodingOptions.MinimumPairFrequency), frequency.ParamName);
        Assert.AreEqual(nameof(BytePairEncodingOptions.SpecialTokens), repeated.ParamName);
        Assert.AreEqual(nameof(BytePairEncodingOptions.OutputColumnName), empty.ParamName);
    }

    [TestMethod]
    public void TransformReadsTextOnlyForTokensThatAreRead()
    {
        var context = new MLContext(1);
        var reads = 0;
        var counted = context.Data.LoadFromEnumerable(Texts.Select(text => new CountedRow(() => Interlocked.Increment(ref reads)) { Text = text }));
        var tokenizer = context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 280).Fit(Load(context, Texts));
        var output = tokenizer.Transform(counted);

        using (var cursor = output.GetRowCursor([output.Schema["Source"]]))
        {
            while (cursor.MoveNext()) { }
        }

        Assert.AreEqual(0, reads, "a cursor without the token column reads no text");
        using var tokenCursor = output.GetRowCursor([output.Schema["Tokens"]]);
        var read = TokenColumn.CreateReader(tokenCursor, output.Schema["Tokens"]);
        Assert.AreEqual(0, reads, "opening a cursor reads no row");
        Assert.IsTrue(tokenCursor.MoveNext());
        var first = read();
        var again = read();
        Assert.AreEqual(1, reads, "a row's text is read once however often its tokens are read");
        CollectionAssert.AreEqual(tokenizer.Encode(Texts[0]), first);
        CollectionAssert.AreEqual(first, again);
    }
}
