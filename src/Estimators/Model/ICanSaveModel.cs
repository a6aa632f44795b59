using System.Text.Json;
using System.Text.Json.Nodes;
using Pipelines.Transforms;

namespace Pipelines.Model;

/// <summary>A transformer that can be written to a model file and read back.</summary>
/// <remarks>
/// To make a transformer loadable, implement this interface, add a static <c>Load(IModelReader)</c> to it and one line
/// for its <see cref="Kind"/> in <c>ModelKinds</c> (Model/ModelKinds.cs), the one table that maps kinds to loaders.
/// </remarks>
public interface ICanSaveModel
{
    /// <summary>The name the transformer is stored under in <c>model.json</c>, such as <c>"CopyColumns"</c>; stable across versions.</summary>
    string Kind { get; }

    /// <summary>Writes the transformer: its description as JSON and any binary entries (weights).</summary>
    void Save(IModelWriter writer);
}

/// <summary>Where a transformer writes itself: its JSON description and its own binary entries of the model zip.</summary>
public interface IModelWriter
{
    /// <summary>Sets the transformer's description, stored in <c>model.json</c> (at most once per transformer).</summary>
    void WriteJson(JsonNode description);

    /// <summary>Creates a binary entry of this transformer (names are local to it: <c>"weights.safetensors"</c>).</summary>
    /// <remarks>Dispose the stream before creating the next one. Entries are stored uncompressed with a SHA-256 checked on reading.</remarks>
    /// <exception cref="ArgumentException">The name is empty, has <c>..</c>, a backslash or a leading <c>/</c>, or was used already.</exception>
    Stream WriteStream(string name);
}

/// <summary>Where a transformer reads itself back from.</summary>
public interface IModelReader
{
    /// <summary>The context loading the model (its logger factory and seeds).</summary>
    PipelineContext Context { get; }

    /// <summary>The custom mappings the caller of <c>Load</c> provided, by contract name.</summary>
    IReadOnlyDictionary<string, CustomMappingFactory> CustomMappings { get; }

    /// <summary>The transformer's description (an empty object if it wrote none).</summary>
    JsonNode ReadJson();

    /// <summary>Whether this transformer has a binary entry named <paramref name="name"/>.</summary>
    bool ContainsStream(string name);

    /// <summary>Opens a binary entry of this transformer, forward-only; its checksum is verified when it is read to the end or disposed.</summary>
    /// <exception cref="InvalidDataException">The entry is missing (the message names it), or its checksum does not match.</exception>
    Stream OpenStream(string name);
}

/// <summary>Typed JSON descriptions through System.Text.Json (camelCase, required constructor parameters enforced).</summary>
public static class ModelReaderWriterExtensions
{
    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        WriteIndented = true,
    };

    /// <summary>Sets the transformer's description to <paramref name="description"/> serialized as JSON.</summary>
    public static void WriteJson<T>(this IModelWriter writer, T description)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteJson(JsonSerializer.SerializeToNode(description, JsonOptions) ?? throw new ArgumentNullException(nameof(description)));
    }

    /// <summary>The transformer's description deserialized as <typeparamref name="T"/>.</summary>
    /// <exception cref="InvalidDataException">The description does not match <typeparamref name="T"/>.</exception>
    public static T ReadJson<T>(this IModelReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
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
}
