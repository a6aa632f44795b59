using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipelines.Components.Lora;

/// <summary>A linear projection of a transformer block that can carry a LoRA adapter; named as the engine's parameters are.</summary>
[JsonConverter(typeof(LoraProjectionJsonConverter))]
public enum LoraProjection
{
    /// <summary>The fused attention input projection <c>blocks.{l}.qkv</c> [3C, C].</summary>
    Qkv,
    /// <summary>The attention output projection <c>blocks.{l}.proj</c> [C, C].</summary>
    Projection,
    /// <summary>The MLP's expanding projection <c>blocks.{l}.fc</c> [4C, C].</summary>
    Expand,
    /// <summary>The MLP's contracting projection <c>blocks.{l}.out</c> [C, 4C].</summary>
    Contract,
}

/// <summary>Module names of <see cref="LoraProjection"/> values, as in the engine's parameter names and PEFT's <c>target_modules</c>.</summary>
public static class LoraProjections
{
    /// <summary>Every projection, in block order.</summary>
    public static IReadOnlyList<LoraProjection> All { get; } = [LoraProjection.Qkv, LoraProjection.Projection, LoraProjection.Expand, LoraProjection.Contract];

    /// <summary>The module name: <c>qkv</c>, <c>proj</c>, <c>fc</c> or <c>out</c>.</summary>
    public static string ModuleName(this LoraProjection projection) => projection switch
    {
        LoraProjection.Qkv => "qkv",
        LoraProjection.Projection => "proj",
        LoraProjection.Expand => "fc",
        LoraProjection.Contract => "out",
        _ => throw new ArgumentOutOfRangeException(nameof(projection), projection, "Not a block projection."),
    };

    /// <summary>The module path inside the model, e.g. <c>blocks.2.qkv</c> (the weight is <c>blocks.2.qkv.weight</c>).</summary>
    public static string ModulePath(int layer, LoraProjection projection) => $"blocks.{layer}.{projection.ModuleName()}";

    /// <summary>The projection with module name <paramref name="moduleName"/>.</summary>
    /// <exception cref="ArgumentException">No block projection has that name; the message names it.</exception>
    public static LoraProjection Parse(string moduleName) => moduleName switch
    {
        "qkv" => LoraProjection.Qkv,
        "proj" => LoraProjection.Projection,
        "fc" => LoraProjection.Expand,
        "out" => LoraProjection.Contract,
        _ => throw new ArgumentException($"The model has no block projection named '{moduleName}' (it has qkv, proj, fc, out).", nameof(moduleName)),
    };

    /// <summary>(out, in) channels of <paramref name="projection"/> in a block of width <paramref name="channels"/>.</summary>
    public static (int OutChannels, int InChannels) Shape(this LoraProjection projection, int channels) => projection switch
    {
        LoraProjection.Qkv => (3 * channels, channels),
        LoraProjection.Projection => (channels, channels),
        LoraProjection.Expand => (4 * channels, channels),
        LoraProjection.Contract => (channels, 4 * channels),
        _ => throw new ArgumentOutOfRangeException(nameof(projection), projection, "Not a block projection."),
    };
}

/// <summary>Writes <see cref="LoraProjection"/> values as their module names in JSON.</summary>
internal sealed class LoraProjectionJsonConverter : JsonConverter<LoraProjection>
{
    public override LoraProjection Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var name = reader.GetString() ?? throw new JsonException("A projection name is null.");
        try
        {
            return LoraProjections.Parse(name);
        }
        catch (ArgumentException exception)
        {
            throw new JsonException(exception.Message, exception);
        }
    }

    public override void Write(Utf8JsonWriter writer, LoraProjection value, JsonSerializerOptions options) => writer.WriteStringValue(value.ModuleName());
}
