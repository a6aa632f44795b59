using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML;

namespace Pipelines.MachineLearning;

/// <summary>Where a transformer writes its part of an ML.NET model file: a JSON description and named binary entries.</summary>
internal interface IModelWriter
{
    /// <summary>Sets the transformer's description (at most once).</summary>
    void WriteJson(JsonNode description);

    /// <summary>Creates a binary entry of this transformer, such as <c>"weights.safetensors"</c>; dispose it before the next.</summary>
    /// <exception cref="ArgumentException">The name is empty, has a path separator or was used already.</exception>
    Stream WriteStream(string name);
}

/// <summary>Where a transformer reads its part of a model file back from.</summary>
internal interface IModelReader
{
    /// <summary>The environment loading the model.</summary>
    Microsoft.ML.Runtime.IHostEnvironment Environment { get; }

    /// <summary>The transformer's description (an empty object if it wrote none).</summary>
    JsonNode ReadJson();

    /// <summary>Whether the transformer wrote a binary entry named <paramref name="name"/>.</summary>
    bool ContainsStream(string name);

    /// <summary>A binary entry, its length and SHA-256 checked against the ones recorded at saving.</summary>
    /// <exception cref="InvalidDataException">The entry is missing (the message names it) or was changed.</exception>
    Stream OpenStream(string name);
}

/// <summary>
/// A transformer's part of an ML.NET model file (<c>MLContext.Model.Save</c>): ML.NET's header, then in the main
/// stream a format number, the JSON description and a manifest (name, length, SHA-256) of the binary entries, which
/// are stored as entries of their own in the zip (so <c>weights.safetensors</c> can be read by other tools).
/// </summary>
internal static class ModelParts
{
    private const int FormatVersion = 1;

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        WriteIndented = true,
    };

    /// <summary>Writes a transformer's part: <paramref name="save"/> fills the description and entries.</summary>
    public static void Save(ModelSaveContext context, ModelVersion version, Action<IModelWriter> save)
    {
        ArgumentNullException.ThrowIfNull(context);
        MachineLearningInternals.SetVersionInfo(context, version);
        var writer = new PartWriter();
        save(writer);
        var main = MachineLearningInternals.GetWriter(context);
        main.Write(FormatVersion);
        main.Write((writer.Description ?? new JsonObject()).ToJsonString());
        main.Write(writer.Entries.Count);
        foreach (var (name, bytes) in writer.Entries)
        {
            main.Write(name);
            main.Write((long)bytes.Length);
            main.Write(Convert.ToHexString(SHA256.HashData(bytes)));
            MachineLearningInternals.SaveBinaryStream(context, name, binary => binary.Write(bytes));
        }
    }

    /// <summary>Reads a transformer's part back, checking its header against <paramref name="version"/>.</summary>
    /// <exception cref="InvalidDataException">The part is of another kind or version, or is damaged.</exception>
    public static IModelReader Open(Microsoft.ML.Runtime.IHostEnvironment environment, object loadContext, ModelVersion version)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(loadContext);
        MachineLearningInternals.CheckAtModel(loadContext, version);
        var main = MachineLearningInternals.GetReader(loadContext);
        try
        {
            var format = main.ReadInt32();
            if (format != FormatVersion)
                throw new InvalidDataException($"The model part of {version.LoaderSignature} has format {format}; this library reads format {FormatVersion}.");
            var description = JsonNode.Parse(main.ReadString()) ?? new JsonObject();
            var count = main.ReadInt32();
            if (count < 0 || count > 1024) throw new InvalidDataException($"The model part of {version.LoaderSignature} claims {count} entries.");
            var manifest = new Dictionary<string, (long Length, string Hash)>(StringComparer.Ordinal);
            for (var index = 0; index < count; index++)
                manifest[main.ReadString()] = (main.ReadInt64(), main.ReadString());
            return new PartReader(environment, loadContext, description, manifest, version.LoaderSignature);
        }
        catch (Exception exception) when (exception is EndOfStreamException or JsonException)
        {
            throw new InvalidDataException($"The model part of {version.LoaderSignature} is damaged: {exception.Message}", exception);
        }
    }

    /// <summary>Sets the description to <paramref name="description"/> serialized as JSON.</summary>
    public static void WriteJson<T>(this IModelWriter writer, T description) =>
        writer.WriteJson(JsonSerializer.SerializeToNode(description, JsonOptions) ?? throw new ArgumentNullException(nameof(description)));

    /// <summary>The description deserialized as <typeparamref name="T"/>.</summary>
    /// <exception cref="InvalidDataException">The description does not match <typeparamref name="T"/>.</exception>
    public static T ReadJson<T>(this IModelReader reader)
    {
        try
        {
            return reader.ReadJson().Deserialize<T>(JsonOptions)
                ?? throw new InvalidDataException($"The model's description of a {typeof(T).Name} is null.");
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"The model's description does not match {typeof(T).Name}: {exception.Message}", exception);
        }
    }

    private sealed class PartWriter : IModelWriter
    {
        public JsonNode? Description { get; private set; }

        public List<(string Name, byte[] Bytes)> Entries { get; } = [];

        public void WriteJson(JsonNode description)
        {
            ArgumentNullException.ThrowIfNull(description);
            if (Description is not null) throw new InvalidOperationException("The description was written already.");
            Description = description;
        }

        public Stream WriteStream(string name)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name);
            if (name.Contains('/') || name.Contains('\\') || name.Contains("..", StringComparison.Ordinal))
                throw new ArgumentException($"Entry name '{name}' must be a plain file name.", nameof(name));
            if (Entries.Any(entry => entry.Name == name)) throw new ArgumentException($"Entry '{name}' was written already.", nameof(name));
            return new EntryStream(bytes => Entries.Add((name, bytes)));
        }
    }

    private sealed class EntryStream(Action<byte[]> onClosed) : MemoryStream
    {
        private bool closed;

        protected override void Dispose(bool disposing)
        {
            if (disposing && !closed)
            {
                closed = true;
                onClosed(ToArray());
            }

            base.Dispose(disposing);
        }
    }

    private sealed class PartReader(Microsoft.ML.Runtime.IHostEnvironment environment, object loadContext, JsonNode description,
        Dictionary<string, (long Length, string Hash)> manifest, string loaderSignature) : IModelReader
    {
        public Microsoft.ML.Runtime.IHostEnvironment Environment => environment;

        public JsonNode ReadJson() => description.DeepClone();

        public bool ContainsStream(string name) => manifest.ContainsKey(name);

        public Stream OpenStream(string name)
        {
            if (!manifest.TryGetValue(name, out var expected))
                throw new InvalidDataException($"The model part of {loaderSignature} has no entry '{name}' (it has {string.Join(", ", manifest.Keys)}).");
            byte[]? bytes = null;
            if (!MachineLearningInternals.TryLoadBinaryStream(loadContext, name, reader =>
                {
                    if (expected.Length > int.MaxValue) throw new InvalidDataException($"Entry '{name}' claims {expected.Length} bytes.");
                    bytes = reader.ReadBytes((int)expected.Length);
                }) || bytes is null)
                throw new InvalidDataException($"The model file lacks the entry '{name}' of {loaderSignature}.");
            if (bytes.Length != expected.Length || Convert.ToHexString(SHA256.HashData(bytes)) != expected.Hash)
                throw new InvalidDataException($"Entry '{name}' of {loaderSignature} does not match the checksum recorded when it was saved: the file was changed or damaged.");
            return new MemoryStream(bytes, writable: false);
        }
    }
}
