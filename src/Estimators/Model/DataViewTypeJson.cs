using System.Text.Json.Nodes;
using Pipelines.Data;

namespace Pipelines.Model;

/// <summary>Column types and schemas as JSON, for model files: <c>{"type":"Vector","itemType":{"type":"Int32"},"dimensions":[0]}</c>.</summary>
internal static class DataViewTypeJson
{
    public static JsonObject ToJson(DataViewType type) => type switch
    {
        VectorDataViewType vector => new JsonObject
        {
            ["type"] = "Vector",
            ["itemType"] = ToJson(vector.ItemType),
            ["dimensions"] = new JsonArray([.. vector.Dimensions.Select(dimension => (JsonNode)dimension)]),
        },
        KeyDataViewType key => new JsonObject { ["type"] = "Key", ["count"] = key.Count },
        _ => new JsonObject { ["type"] = type.ToString() },
    };

    /// <exception cref="InvalidDataException">The JSON is not a known type.</exception>
    public static DataViewType FromJson(JsonNode? node)
    {
        var name = ModelJson.RequiredString(node, "type");
        return name switch
        {
            "Single" => NumberDataViewType.Single,
            "Double" => NumberDataViewType.Double,
            "Int32" => NumberDataViewType.Int32,
            "UInt32" => NumberDataViewType.UInt32,
            "Int64" => NumberDataViewType.Int64,
            "Boolean" => BooleanDataViewType.Instance,
            "Text" => TextDataViewType.Instance,
            "Key" => new KeyDataViewType(ModelJson.Required(node, "count").GetValue<ulong>()),
            "Vector" => new VectorDataViewType(
                FromJson(ModelJson.Required(node, "itemType")) as PrimitiveDataViewType ?? throw new InvalidDataException("A vector's item type is not primitive."),
                [.. ModelJson.Required(node, "dimensions").AsArray().Select(dimension => dimension!.GetValue<int>())]),
            _ => throw new InvalidDataException($"Unknown column type '{name}'."),
        };
    }

    public static JsonArray SchemaToJson(DataViewSchema schema) =>
        new([.. schema.Select(column => (JsonNode)new JsonObject { ["name"] = column.Name, ["type"] = ToJson(column.Type) })]);

    public static DataViewSchema SchemaFromJson(JsonNode node) =>
        DataViewSchema.Create(node.AsArray().Select(column =>
            new DataViewSchema.DetachedColumn(ModelJson.RequiredString(column, "name"), FromJson(ModelJson.Required(column, "type")))));
}

/// <summary>Required-property access for model JSON, failing with <see cref="InvalidDataException"/>.</summary>
internal static class ModelJson
{
    public static JsonNode Required(JsonNode? node, string property) =>
        (node as JsonObject)?[property] ?? throw new InvalidDataException($"model.json lacks the property '{property}'.");

    public static string RequiredString(JsonNode? node, string property) =>
        Required(node, property) is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : throw new InvalidDataException($"model.json property '{property}' is not a string.");
}
