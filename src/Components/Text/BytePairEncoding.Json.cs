using System.Text;
using System.Text.Json;
using Pipelines.Components.Serialization;

namespace Pipelines.Components.Text;

/// <content>Saving and loading as JSON.</content>
public sealed partial class BytePairEncoding
{
    /// <summary>The value of the <c>format</c> field in saved files.</summary>
    public const string FormatName = "Pipelines.BytePairEncoding";

    /// <summary>The version written by <see cref="Save(Stream)"/>; <see cref="Load(Stream)"/> reads this version only.</summary>
    public const int FormatVersion = 1;

    /// <summary>Name of the chunking rules (<see cref="PreTokenizer"/>) that saved files record.</summary>
    public const string PreTokenizerName = "gpt2-like-v1";

    /// <summary>Writes the encoding as UTF-8 JSON.</summary>
    /// <remarks>
    /// Layout: <c>{"format":"Pipelines.BytePairEncoding","version":1,"preTokenizer":"gpt2-like-v1",
    /// "merges":[[left,right],...],"specialTokens":["..."]}</c>; merge <c>i</c> makes token 256 + i, and the
    /// special tokens follow the merges.
    /// </remarks>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
        writer.WriteStartObject();
        writer.WriteString("format", FormatName);
        writer.WriteNumber("version", FormatVersion);
        writer.WriteString("preTokenizer", PreTokenizerName);
        writer.WriteStartArray("merges");
        foreach (var (left, right) in merges)
        {
            writer.WriteStartArray();
            writer.WriteNumberValue(left);
            writer.WriteNumberValue(right);
            writer.WriteEndArray();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("specialTokens");
        foreach (var token in specialTokens) writer.WriteStringValue(token);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Writes the encoding as JSON to a file (replaced if it exists).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = File.Create(path);
        Save(stream);
    }

    /// <summary>The encoding as a JSON string (see <see cref="Save(Stream)"/>).</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        Save(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Reads an encoding written by <see cref="Save(Stream)"/>.</summary>
    /// <exception cref="InvalidDataException">The content is not valid JSON, has another format or version, or its merges or special tokens are invalid.</exception>
    public static BytePairEncoding Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var document = JsonInput.Parse(stream, "The byte-pair encoding");

        using (document)
        {
            return FromDocument(document.RootElement);
        }
    }

    /// <summary>Reads an encoding from a file written by <see cref="Save(string)"/>.</summary>
    /// <exception cref="InvalidDataException">See <see cref="Load(Stream)"/>.</exception>
    public static BytePairEncoding Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = File.OpenRead(path);
        return Load(stream);
    }

    /// <summary>Reads an encoding from a JSON string made by <see cref="ToJson"/>.</summary>
    /// <exception cref="InvalidDataException">See <see cref="Load(Stream)"/>.</exception>
    public static BytePairEncoding FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(json));
        return Load(stream);
    }

    private static BytePairEncoding FromDocument(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException("The byte-pair encoding must be a JSON object.");
        var format = RequiredProperty(root, "format", JsonValueKind.String).GetString();
        if (format != FormatName) throw new InvalidDataException($"The format is '{format}', expected '{FormatName}'.");
        var versionElement = RequiredProperty(root, "version", JsonValueKind.Number);
        if (!versionElement.TryGetInt32(out var version) || version != FormatVersion)
            throw new InvalidDataException($"Format version {versionElement.GetRawText()} is not supported (this library reads version {FormatVersion}).");
        if (root.TryGetProperty("preTokenizer", out var preTokenizer) && preTokenizer.ValueKind == JsonValueKind.String && preTokenizer.GetString() != PreTokenizerName)
            throw new InvalidDataException($"The pre-tokenizer is '{preTokenizer.GetString()}', this library has '{PreTokenizerName}'.");

        var merges = new List<(int Left, int Right)>();
        foreach (var merge in RequiredProperty(root, "merges", JsonValueKind.Array).EnumerateArray())
        {
            if (merge.ValueKind != JsonValueKind.Array || merge.GetArrayLength() != 2
                || !merge[0].TryGetInt32(out var left) || !merge[1].TryGetInt32(out var right))
                throw new InvalidDataException($"Merge {merges.Count} must be an array of two integer token ids, not {merge.GetRawText()}.");
            merges.Add((left, right));
        }

        var specials = new List<string>();
        foreach (var special in RequiredProperty(root, "specialTokens", JsonValueKind.Array).EnumerateArray())
        {
            if (special.ValueKind != JsonValueKind.String) throw new InvalidDataException($"Special token {specials.Count} must be a string, not {special.GetRawText()}.");
            specials.Add(special.GetString()!);
        }

        try
        {
            return new BytePairEncoding(merges, specials);
        }
        catch (ArgumentException exception)
        {
            throw new InvalidDataException($"The byte-pair encoding is invalid: {exception.Message}", exception);
        }
    }

    private static JsonElement RequiredProperty(JsonElement root, string name, JsonValueKind kind)
    {
        if (!root.TryGetProperty(name, out var value)) throw new InvalidDataException($"The byte-pair encoding has no '{name}' field.");
        if (value.ValueKind != kind) throw new InvalidDataException($"The '{name}' field must be a JSON {kind}, not {value.ValueKind}.");
        return value;
    }
}
