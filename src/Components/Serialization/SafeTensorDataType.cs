namespace Pipelines.Components.Serialization;

/// <summary>Element types this library reads and writes in safetensors files.</summary>
public enum SafeTensorDataType
{
    /// <summary>32-bit IEEE float, <c>"F32"</c> (PyTorch <c>torch.float32</c>).</summary>
    Float32,
    /// <summary>32-bit signed integer, <c>"I32"</c> (<c>torch.int32</c>).</summary>
    Int32,
    /// <summary>64-bit signed integer, <c>"I64"</c> (<c>torch.int64</c>).</summary>
    Int64,
}

/// <summary>The names and sizes of <see cref="SafeTensorDataType"/> values in the format.</summary>
public static class SafeTensorDataTypes
{
    /// <summary>The <c>dtype</c> string of the format: <c>F32</c>, <c>I32</c> or <c>I64</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined value.</exception>
    public static string FormatName(this SafeTensorDataType dataType) => dataType switch
    {
        SafeTensorDataType.Float32 => "F32",
        SafeTensorDataType.Int32 => "I32",
        SafeTensorDataType.Int64 => "I64",
        _ => throw new ArgumentOutOfRangeException(nameof(dataType), dataType, "Unknown data type."),
    };

    /// <summary>Bytes per element.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined value.</exception>
    public static int ElementSize(this SafeTensorDataType dataType) => dataType switch
    {
        SafeTensorDataType.Float32 or SafeTensorDataType.Int32 => 4,
        SafeTensorDataType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dataType), dataType, "Unknown data type."),
    };

    /// <summary>Parses a <c>dtype</c> string; false for types this library does not support (F16, BF16, U8, ...).</summary>
    public static bool TryParse(string formatName, out SafeTensorDataType dataType)
    {
        switch (formatName)
        {
            case "F32": dataType = SafeTensorDataType.Float32; return true;
            case "I32": dataType = SafeTensorDataType.Int32; return true;
            case "I64": dataType = SafeTensorDataType.Int64; return true;
            default: dataType = default; return false;
        }
    }
}
