using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipelines.Components.Schedules;

/// <summary>The one JSON setting used for plans in checkpoints: camelCase names, enums by name.</summary>
internal static class ScheduleJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    public static T Read<T>(string json) where T : class
    {
        ArgumentNullException.ThrowIfNull(json);
        return JsonSerializer.Deserialize<T>(json, Options)
            ?? throw new InvalidDataException($"The JSON text holds null, not a {typeof(T).Name}.");
    }
}
