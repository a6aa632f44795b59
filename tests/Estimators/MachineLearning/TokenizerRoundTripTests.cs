using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.Text;

namespace Pipelines.Estimators.Tests.MachineLearning;

[TestClass]
public sealed class TokenizerRoundTripTests
{
    private static readonly string[] Texts =
    [
        "the jury said the city was well run",
        "the city said the jury was well paid",
        "a well run city pays its jury well",
        "Grüße, 東京! 🙂 and the jury",
    ];

    public sealed class Document
    {
        public string Text { get; set; } = "";

        public string Label { get; set; } = "";
    }

    private static IDataView Data(MLContext context) =>
        context.Data.LoadFromEnumerable(Texts.Select((text, index) => new Document { Text = text, Label = index % 2 == 0 ? "even" : "odd" }));

    private static IEstimator<ITransformer> Pipeline(MLContext context) =>
        context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 280))
            .Append(context.Transforms.CopyColumns("TokensCopy", "Tokens"));

    [TestMethod]
    public void TokenColumnIsAKeyVectorSizedToTheVocabularyAndCarriesTheTokenizer()
    {
        var context = new MLContext(seed: 1);
        var model = Pipeline(context).Fit(Data(context));
        var output = model.Transform(Data(context));
        var tokenizer = ((IEnumerable<ITransformer>)model).OfType<BytePairEncodingTransformer>().Single().Tokenizer;
        Assert.IsNotNull(tokenizer);
        foreach (var name in new[] { "Tokens", "TokensCopy" })
        {
            var column = output.Schema[name];
            var type = (VectorDataViewType)column.Type;
            Assert.AreEqual((ulong)tokenizer.VocabularySize, ((KeyDataViewType)type.ItemType).Count, name);
            Assert.AreEqual(tokenizer.ToJson(), TokenColumn.FindTokenizer(column)!.ToJson(), $"{name} carries the tokenizer");
        }

        using var cursor = output.GetRowCursor(output.Schema);
        var getter = cursor.GetGetter<VBuffer<uint>>(output.Schema["TokensCopy"]);
        VBuffer<uint> keys = default;
        var row = 0;
        while (cursor.MoveNext())
        {
            getter(ref keys);
            var ids = keys.DenseValues().Select(key => (int)key - 1).ToArray();
            Assert.AreEqual(Texts[row], tokenizer.Decode(ids), "keys minus one are the token ids");
            row++;
        }

        Assert.AreEqual(Texts.Length, row);
    }

    [TestMethod]
    public void MapKeyToValueShowsTokenText()
    {
        var context = new MLContext(seed: 1);
        var model = Pipeline(context).Append(context.Transforms.Conversion.MapKeyToValue("TokenText", "Tokens")).Fit(Data(context));
        var output = model.Transform(Data(context));
        var texts = output.GetColumn<string[]>("TokenText").ToArray();
        Assert.AreEqual("the", texts[0][0]);
        Assert.AreEqual("Ġjury", texts[0][1], "a space is written as Ġ in the byte-level alphabet");
    }

    [TestMethod]
    public void OutputSchemaIsKnownBeforeFitting()
    {
        var context = new MLContext(seed: 1);
        var shape = Pipeline(context).GetOutputSchema(SchemaShapes.FromSchema(Data(context).Schema));
        var tokens = shape.Single(column => column.Name == "Tokens");
        Assert.AreEqual(SchemaShape.Column.VectorKind.VariableVector, tokens.Kind);
        Assert.IsTrue(tokens.IsKey);
        Assert.IsTrue(shape.Any(column => column.Name == "TokensCopy" && column.IsKey));
    }

    [TestMethod]
    public void MissingTextColumnFailsBeforeFittingNamingTheColumn()
    {
        var context = new MLContext(seed: 1);
        var estimator = context.Transforms.Text.TrainBytePairEncoding(inputColumnName: "Body");
        var error = Assert.Throws<SchemaMismatchException>(() => estimator.GetOutputSchema(SchemaShapes.FromSchema(Data(context).Schema)));
        StringAssert.Contains(error.Message, "'Body'");
    }

    [TestMethod]
    public void SavedChainLoadsInAFreshContextAndAFreshProcessAsItsOwnType()
    {
        var context = new MLContext(seed: 1);
        var data = Data(context);
        var model = Pipeline(context).Fit(data);
        var path = Path.Combine(Path.GetTempPath(), $"pipelines-tokenizer-{Guid.NewGuid():N}.zip");
        try
        {
            context.Model.Save(model, data.Schema, path);
            var expected = model.Transform(data).GetColumn<uint[]>("Tokens").ToArray();

            var fresh = new MLContext(seed: 2);
            var loaded = fresh.Model.Load(path, out var schema);
            Assert.AreEqual(data.Schema.Count, schema.Count);
            Assert.IsInstanceOfType<BytePairEncodingTransformer>(((TransformerChain<ITransformer>)loaded).ElementAt(1));
            var again = loaded.Transform(Data(fresh)).GetColumn<uint[]>("Tokens").ToArray();
            CollectionAssert.AreEqual(expected.SelectMany(row => row).ToArray(), again.SelectMany(row => row).ToArray());

            var printed = ModelProbe.Run(path, Texts.Select(text => text));
            CollectionAssert.Contains(printed.Where(line => line[0] == "transformer").Select(line => line[1]).ToArray(), nameof(BytePairEncodingTransformer));
            for (var row = 0; row < Texts.Length; row++)
            {
                var line = printed.Single(fields => fields[0] == row.ToString() && fields[1] == "Tokens");
                Assert.AreEqual(string.Join(" ", expected[row]), line[2], $"row {row} in the other process");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
