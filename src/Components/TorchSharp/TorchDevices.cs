using TorchSharp;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp;

/// <summary>Turns a device description such as <c>"cpu"</c> or <c>"cuda:1"</c> into a TorchSharp <see cref="Device"/>.</summary>
/// <remarks>
/// There is no default device: every module and tensor of this backend is made on the device its caller names.
/// The description is <c>type</c> or <c>type:index</c>, with <c>type</c> one of TorchSharp's <see cref="DeviceType"/>
/// names in any case and <c>index</c> a non-negative integer (absent means the current device of that type).
/// </remarks>
public static class TorchDevices
{
    /// <summary>Parses <paramref name="description"/> without touching the native library.</summary>
    /// <exception cref="ArgumentException">The description is empty or malformed; the message quotes it and lists the device types.</exception>
    public static Device Parse(string description)
    {
        ArgumentNullException.ThrowIfNull(description);
        var parts = description.Trim().Split(':');
        if (parts.Length is < 1 or > 2 || !TryParseType(parts[0], out var type))
            throw Malformed(description, nameof(description));
        if (parts.Length == 1) return new Device(type, -1);
        if (!int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
            throw Malformed(description, nameof(description));
        return new Device(type, index);
    }

    /// <summary>Parses <paramref name="description"/> and checks that the native library supports that device type here.</summary>
    /// <exception cref="ArgumentException">The description is malformed (see <see cref="Parse"/>).</exception>
    /// <exception cref="TorchRuntimeUnavailableException">The native runtime cannot be loaded, or has no support for the device type.</exception>
    public static Device Resolve(string description)
    {
        var device = Parse(description);
        TorchRuntime.EnsureAvailable(device.type);
        return device;
    }

    private static bool TryParseType(string text, out DeviceType type)
    {
        type = default;
        return text.Length > 0 && text.All(char.IsAsciiLetter) && Enum.TryParse(text, ignoreCase: true, out type);
    }

    private static ArgumentException Malformed(string description, string parameterName) => new(
        $"'{description}' is not a device: expected 'type' or 'type:index' with type one of {string.Join(", ", Enum.GetNames<DeviceType>().Select(name => name.ToLowerInvariant()))} and index a non-negative integer (e.g. 'cpu', 'cuda:0').",
        parameterName);
}
