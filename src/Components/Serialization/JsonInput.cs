using System.Text.Json;

namespace Pipelines.Components.Serialization;

/// <summary>Parses JSON read from a file format, turning a syntax error into the format's documented exception.</summary>
internal static class JsonInput
{
    /// <summary>The JSON document in <paramref name="stream"/>.</summary>
    /// <param name="stream">The input.</param>
    /// <param name="what">What is read, as the message's subject, such as <c>"vocab.json"</c>.</param>
    /// <exception cref="InvalidDataException">The input is not valid JSON (the message says what and why).</exception>
    public static JsonDocument Parse(Stream stream, string what) => Parse(() => JsonDocument.Parse(stream), what);

    /// <summary>The JSON document in <paramref name="utf8"/>.</summary>
    /// <exception cref="InvalidDataException">The input is not valid JSON (the message says what and why).</exception>
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8, string what) => Parse(() => JsonDocument.Parse(utf8), what);

    private static JsonDocument Parse(Func<JsonDocument> parse, string what)
    {
        try
        {
            return parse();
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"{what} is not valid JSON: {exception.Message}", exception);
        }
    }
}
