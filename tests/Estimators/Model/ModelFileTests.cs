using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Pipelines.Data;
using Pipelines.Estimators.Tests.Support;
using Pipelines.Model;
using Pipelines.Transforms;

namespace Pipelines.Estimators.Tests.Model;

[TestClass]
public sealed class ModelFileTests
{
    private static readonly Action<ValueInput, DoubledOutput> Double = (input, output) =>
    {
        output.Doubled = 2 * input.Value;
        output.Pair = [input.Value, 1];
    };

    /// <summary>A saveable transformer with a binary entry, loaded through a test kind table.</summary>
    private sealed class WeightsTransformer(byte[] weights) : ITransformer, ICanSaveModel
    {
        public byte[] Weights => weights;

        public string Kind => "TestWeights";

        public bool IsRowToRowMapper => true;

        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inputSchema;

        public IDataView Transform(IDataView input) => input;

        public void Save(IModelWriter writer)
        {
            writer.WriteJson(new JsonObject { ["length"] = weights.Length });
            using var stream = writer.WriteStream("weights.bin");
            stream.Write(weights);
        }

        public static ITransformer Load(IModelReader reader)
        {
            var length = reader.ReadJson()["length"]!.GetValue<int>();
            using var stream = reader.OpenStream("weights.bin");
            var weights = new byte[length];
            stream.ReadExactly(weights);
            return new WeightsTransformer(weights);
        }
    }

    private static readonly Dictionary<string, Func<IModelReader, ITransformer>> TestKinds = new() { ["TestWeights"] = WeightsTransformer.Load };

    private static string TemporaryPath() => Path.Combine(Path.GetTempPath(), $"pipelines-model-{Guid.NewGuid():N}.zip");

    private static ITransformer LoadWithTestKinds(byte[] file) =>
        ModelFile.Read(new MemoryStream(file), "test", new PipelineContext(1), new Dictionary<string, CustomMappingFactory>(), out _, TestKinds);

    private static byte[] SaveWeights(byte[] weights)
    {
        var stream = new MemoryStream();
        ModelFile.Write(stream, new WeightsTransformer(weights), inputSchema: null);
        return stream.ToArray();
    }

    private static byte[] Rewrite(byte[] file, Action<ZipArchive> change)
    {
        var stream = new MemoryStream();
        stream.Write(file);
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true)) change(archive);
        return stream.ToArray();
    }

    private static void ReplaceEntry(ZipArchive archive, string name, byte[] content)
    {
        archive.GetEntry(name)!.Delete();
        using var stream = archive.CreateEntry(name).Open();
        stream.Write(content);
    }

    [TestMethod]
    public void ChainRoundTripsWithInputSchema()
    {
        var context = new PipelineContext(1);
        var data = TestData.Numbers(context, 4);
        var model = context.Transforms.CopyColumns("Copy", "Value")
            .Append(context.Transforms.CustomMapping(Double, "double"))
            .Fit(data);
        var path = TemporaryPath();
        try
        {
            context.Model.Save(model, data.Schema, path);
            var loaded = context.Model.Load(path, out var inputSchema, new CustomMappingFactory<ValueInput, DoubledOutput>("double", Double));

            Assert.IsNotNull(inputSchema);
            Assert.AreEqual(data.Schema.ToString(), inputSchema.ToString());
            var chain = (TransformerChain<ITransformer>)loaded;
            Assert.IsInstanceOfType<CopyColumnsTransformer>(chain.First());
            Assert.IsInstanceOfType<CustomMappingTransformer<ValueInput, DoubledOutput>>(chain.LastTransformer);
            var output = loaded.Transform(data);
            CollectionAssert.AreEqual(TestData.Values(model.Transform(data), "Doubled"), TestData.Values(output, "Doubled"));
            CollectionAssert.AreEqual(new[] { 0f, 1f, 2f, 3f }, TestData.Values(output, "Copy"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void SingleTransformerLoadsAsItself()
    {
        var context = new PipelineContext(1);
        var stream = new MemoryStream();
        context.Model.Save(new CopyColumnsTransformer(new InputOutputColumnPair("B", "A"), new InputOutputColumnPair("C", "A")), null, stream);
        stream.Position = 0;

        var loaded = context.Model.Load(stream, out var inputSchema);

        Assert.IsNull(inputSchema);
        var copy = (CopyColumnsTransformer)loaded;
        CollectionAssert.AreEqual(new[] { "B", "C" }, copy.Columns.Select(pair => pair.OutputColumnName).ToArray());
        Assert.AreEqual("A", copy.Columns[1].InputColumnName);
    }

    [TestMethod]
    public void BinaryEntriesRoundTrip()
    {
        var weights = Enumerable.Range(0, 1000).Select(index => (byte)(index * 7)).ToArray();
        var loaded = (WeightsTransformer)LoadWithTestKinds(SaveWeights(weights));
        CollectionAssert.AreEqual(weights, loaded.Weights);
    }

    [TestMethod]
    public void CustomMappingsNeedContractNameToSaveAndFactoryToLoad()
    {
        var context = new PipelineContext(1);
        var data = TestData.Numbers(context, 1);
        var unnamed = context.Transforms.CustomMapping(Double, null).Fit(data);
        Assert.ThrowsExactly<InvalidOperationException>(() => context.Model.Save(unnamed, null, new MemoryStream()));

        var stream = new MemoryStream();
        context.Model.Save(context.Transforms.CustomMapping(Double, "double").Fit(data), null, stream);
        stream.Position = 0;
        var exception = Assert.ThrowsExactly<InvalidOperationException>(() => context.Model.Load(stream, out _));
        StringAssert.Contains(exception.Message, "'double'");
        stream.Position = 0;
        Assert.ThrowsExactly<InvalidOperationException>(() =>
            context.Model.Load(stream, out _, new CustomMappingFactory<DoubledOutput, ValueInput>("double", (_, _) => { })));
    }

    [TestMethod]
    public void UnsaveableTransformerIsNamed()
    {
        var exception = Assert.ThrowsExactly<InvalidOperationException>(() =>
            new PipelineContext(1).Model.Save(new CopyColumnsTransformer(new InputOutputColumnPair("B", "A")).Append(new UnsaveableTransformer()), null, new MemoryStream()));
        StringAssert.Contains(exception.Message, nameof(UnsaveableTransformer));
    }

    [TestMethod]
    public void CorruptZipIsRejected()
    {
        var context = new PipelineContext(1);
        var garbage = new byte[200];
        new Random(3).NextBytes(garbage);
        var exception = Assert.ThrowsExactly<InvalidDataException>(() => context.Model.Load(new MemoryStream(garbage), out _));
        StringAssert.Contains(exception.Message, "corrupt");

        var file = SaveWeights([1, 2, 3]);
        var truncated = file[..(file.Length / 2)];
        Assert.ThrowsExactly<InvalidDataException>(() => LoadWithTestKinds(truncated));
    }

    [TestMethod]
    public void OtherFormatVersionIsRejected()
    {
        var file = Rewrite(SaveWeights([1, 2, 3]), archive =>
        {
            JsonNode manifest;
            using (var manifestStream = archive.GetEntry(ModelFile.ManifestEntryName)!.Open()) manifest = JsonNode.Parse(manifestStream)!;
            manifest["formatVersion"] = 99;
            ReplaceEntry(archive, ModelFile.ManifestEntryName, Encoding.UTF8.GetBytes(manifest.ToJsonString()));
        });

        var exception = Assert.ThrowsExactly<InvalidDataException>(() => LoadWithTestKinds(file));
        StringAssert.Contains(exception.Message, "version 99");
    }

    [TestMethod]
    public void MissingEntriesAreNamed()
    {
        var noManifest = Rewrite(SaveWeights([1, 2, 3]), archive => archive.GetEntry(ModelFile.ManifestEntryName)!.Delete());
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => LoadWithTestKinds(noManifest)).Message, "'model.json'");

        var noWeights = Rewrite(SaveWeights([1, 2, 3]), archive => archive.GetEntry("transformers/0/weights.bin")!.Delete());
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => LoadWithTestKinds(noWeights)).Message, "'transformers/0/weights.bin'");
    }

    [TestMethod]
    public void CorruptEntryAndUnknownKindAreRejected()
    {
        var tampered = Rewrite(SaveWeights([1, 2, 3, 4]), archive => ReplaceEntry(archive, "transformers/0/weights.bin", [1, 2, 9, 4]));
        var exception = Assert.ThrowsExactly<InvalidDataException>(() => LoadWithTestKinds(tampered));
        StringAssert.Contains(exception.Message, "transformers/0/weights.bin");
        StringAssert.Contains(exception.Message, "corrupt");

        var unknown = Assert.ThrowsExactly<InvalidDataException>(() => new PipelineContext(1).Model.Load(new MemoryStream(SaveWeights([1])), out _));
        StringAssert.Contains(unknown.Message, "'TestWeights'");

        var badJson = Rewrite(SaveWeights([1]), archive => ReplaceEntry(archive, ModelFile.ManifestEntryName, "{ not json"u8.ToArray()));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => LoadWithTestKinds(badJson)).Message, "malformed");
    }

    private sealed class UnsaveableTransformer : ITransformer
    {
        public bool IsRowToRowMapper => true;

        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inputSchema;

        public IDataView Transform(IDataView input) => input;
    }
}
