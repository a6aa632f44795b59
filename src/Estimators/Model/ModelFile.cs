using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipelines.Transforms;

namespace Pipelines.Model;

/// <summary>
/// The model file: a zip holding <c>model.json</c> (format, version, input schema, and per transformer its kind,
/// description and binary entries with their SHA-256) and the binary entries under <c>transformers/{index}/</c>.
/// </summary>
internal static class ModelFile
{
    public const string ManifestEntryName = "model.json";
    public const string FormatName = "Pipelines.Model";
    public const int FormatVersion = 1;

    public static void Write(Stream stream, ITransformer model, DataViewSchema? inputSchema)
    {
        var isChain = model is ITransformerChain;
        var transformers = Flatten(model).Select(transformer => transformer as ICanSaveModel
            ?? throw new InvalidOperationException($"{transformer.GetType().Name} cannot be saved: it does not implement ICanSaveModel.")).ToList();
        using var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        var descriptions = new JsonArray();
        for (var index = 0; index < transformers.Count; index++)
        {
            var writer = new EntryWriter(archive, $"transformers/{index}/");
            transformers[index].Save(writer);
            descriptions.Add(new JsonObject
            {
                ["kind"] = transformers[index].Kind,
                ["description"] = writer.Description ?? new JsonObject(),
                ["entries"] = writer.Entries,
            });
        }

        var manifest = new JsonObject
        {
            ["format"] = FormatName,
            ["formatVersion"] = FormatVersion,
            ["isChain"] = isChain,
            ["inputSchema"] = inputSchema is null ? null : DataViewTypeJson.SchemaToJson(inputSchema),
            ["transformers"] = descriptions,
        };
        using var manifestStream = archive.CreateEntry(ManifestEntryName, CompressionLevel.Optimal).Open();
        manifestStream.Write(JsonSerializer.SerializeToUtf8Bytes(manifest, ModelReaderWriterExtensions.JsonOptions));
    }

    // loaders: the kind table; tests pass their own, everything else uses ModelKinds.Loaders.
    public static ITransformer Read(Stream stream, string source, PipelineContext context,
        IReadOnlyDictionary<string, CustomMappingFactory> customMappings, out DataViewSchema? inputSchema,
        IReadOnlyDictionary<string, Func<IModelReader, ITransformer>>? loaders = null)
    {
        loaders ??= ModelKinds.Loaders;
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException exception)
        {
            throw new InvalidDataException($"{source} is not a model file: the zip archive is corrupt ({exception.Message}).", exception);
        }

        using (archive)
        {
            var (manifest, transformerNodes) = ReadManifest(archive, source);
            inputSchema = manifest["inputSchema"] is { } schemaNode ? Guard(source, () => DataViewTypeJson.SchemaFromJson(schemaNode)) : null;
            var transformers = new List<ITransformer>();
            for (var index = 0; index < transformerNodes.Count; index++)
            {
                var node = transformerNodes[index] ?? throw new InvalidDataException($"{source}: transformer {index} of {ManifestEntryName} is null.");
                var kind = Guard(source, () => ModelJson.RequiredString(node, "kind"));
                if (!loaders.TryGetValue(kind, out var load))
                    throw new InvalidDataException($"{source}: transformer {index} is of unknown kind '{kind}'.");
                var reader = new EntryReader(archive, source, $"transformers/{index}/", node, context, customMappings);
                try
                {
                    transformers.Add(load(reader));
                }
                catch (ArgumentException exception)
                {
                    throw new InvalidDataException($"{source}: transformer {index} ({kind}) is invalid: {exception.Message}", exception);
                }
            }

            var isChain = Guard(source, () => ModelJson.Required(manifest, "isChain").GetValue<bool>());
            if (!isChain && transformers.Count == 1) return transformers[0];
            return new TransformerChain<ITransformer>(transformers);
        }
    }

    private static (JsonObject Manifest, JsonArray Transformers) ReadManifest(ZipArchive archive, string source)
    {
        var entry = archive.GetEntry(ManifestEntryName)
            ?? throw new InvalidDataException($"{source} is not a model file: it has no entry '{ManifestEntryName}'.");
        return Guard(source, () =>
        {
            using var manifestStream = entry.Open();
            var manifest = JsonNode.Parse(manifestStream) as JsonObject ?? throw new InvalidDataException($"{ManifestEntryName} is not a JSON object.");
            var format = ModelJson.RequiredString(manifest, "format");
            if (format != FormatName) throw new InvalidDataException($"{ManifestEntryName} is of format '{format}', not '{FormatName}'.");
            var version = ModelJson.Required(manifest, "formatVersion").GetValue<int>();
            if (version != FormatVersion)
                throw new InvalidDataException($"the model is of format version {version}; this library reads version {FormatVersion}.");
            return (manifest, ModelJson.Required(manifest, "transformers").AsArray());
        });
    }

    /// <summary>Runs a step of reading <c>model.json</c>, turning every way it can fail into an <see cref="InvalidDataException"/> naming the file.</summary>
    private static T Guard<T>(string source, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidDataException exception)
        {
            throw new InvalidDataException($"{source}: {exception.Message}", exception);
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{source}: {ManifestEntryName} is malformed ({exception.Message}).", exception);
        }
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer model) =>
        model is ITransformerChain chain ? chain.Transformers.SelectMany(Flatten) : [model];

    private sealed class EntryWriter(ZipArchive archive, string prefix) : IModelWriter
    {
        private readonly HashSet<string> names = new(StringComparer.Ordinal);

        public JsonNode? Description { get; private set; }

        public JsonObject Entries { get; } = [];

        public void WriteJson(JsonNode description)
        {
            ArgumentNullException.ThrowIfNull(description);
            if (Description is not null) throw new InvalidOperationException("A transformer's description is written once.");
            Description = description.DeepClone();
        }

        public Stream WriteStream(string name)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name);
            if (name.Contains("..", StringComparison.Ordinal) || name.Contains('\\') || name.StartsWith('/'))
                throw new ArgumentException($"The entry name '{name}' must be relative, without '..' or backslashes.", nameof(name));
            if (!names.Add(name)) throw new ArgumentException($"The entry '{name}' was written already.", nameof(name));
            var entry = archive.CreateEntry(prefix + name, CompressionLevel.NoCompression);
            return new HashingWriteStream(entry.Open(), (length, sha256) => Entries[name] = new JsonObject { ["length"] = length, ["sha256"] = sha256 });
        }
    }

    private sealed class EntryReader(ZipArchive archive, string source, string prefix, JsonNode node, PipelineContext context,
        IReadOnlyDictionary<string, CustomMappingFactory> customMappings) : IModelReader
    {
        public PipelineContext Context => context;

        public IReadOnlyDictionary<string, CustomMappingFactory> CustomMappings => customMappings;

        public JsonNode ReadJson() => (node["description"] ?? new JsonObject()).DeepClone();

        public bool ContainsStream(string name) => node["entries"]?[name] is not null;

        public Stream OpenStream(string name)
        {
            ArgumentNullException.ThrowIfNull(name);
            var fullName = prefix + name;
            var entry = archive.GetEntry(fullName);
            if (entry is null || node["entries"]?[name] is not JsonObject checksum)
                throw new InvalidDataException($"{source} is incomplete: it has no entry '{fullName}'.");
            var (length, sha256) = Guard(source, () => (ModelJson.Required(checksum, "length").GetValue<long>(), ModelJson.RequiredString(checksum, "sha256")));
            return new VerifyingReadStream(entry.Open(), $"{source}: {fullName}", length, sha256);
        }
    }
}
