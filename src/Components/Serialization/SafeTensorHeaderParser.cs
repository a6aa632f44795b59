using System.Text.Json;

namespace Pipelines.Components.Serialization;

/// <summary>Checks a safetensors header against its data buffer and builds the tensors.</summary>
internal static class SafeTensorHeaderParser
{
    public static SafeTensorFile Parse(byte[] header, byte[] buffer)
    {
        if (header[0] != (byte)'{') throw new InvalidDataException($"The header must start with '{{', not byte 0x{header[0]:X2}.");

        if (!System.Text.Unicode.Utf8.IsValid(header)) throw new InvalidDataException("The header is not valid UTF-8 (so not valid JSON).");

        var document = JsonInput.Parse(header, "The header");

        using (document)
        {
            try
            {
                return Parse(document.RootElement, buffer);
            }
            catch (InvalidOperationException exception)
            {
                // System.Text.Json throws this when a string escapes a lone surrogate ("\ud800"): valid JSON, no valid text.
                throw new InvalidDataException($"The header holds a string that is not valid text: {exception.Message}", exception);
            }
        }
    }

    private static SafeTensorFile Parse(JsonElement root, byte[] buffer)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException("The header must be a JSON object.");

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<(SafeTensorDataType DataType, long[] Shape, long Begin, long End, string Name)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (!names.Add(property.Name)) throw new InvalidDataException($"The header has the key '{property.Name}' twice.");
            if (property.Name == SafeTensors.MetadataKey) ReadMetadata(property.Value, metadata);
            else entries.Add(ReadTensorInfo(property.Name, property.Value, buffer.LongLength));
        }

        CheckCoverage(entries.Select(entry => (entry.Name, entry.Begin, entry.End)).ToList(), buffer.LongLength);
        var tensors = entries
            .OrderBy(entry => entry.Begin)
            .ThenBy(entry => entry.End)
            .Select(entry => SafeTensor.FromValidatedBytes(entry.Name, entry.DataType, entry.Shape, buffer.AsMemory((int)entry.Begin, (int)(entry.End - entry.Begin))));
        return new SafeTensorFile(tensors, metadata);
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"'{SafeTensors.MetadataKey}' must be an object of strings, not {value.ValueKind}.");
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"Metadata '{entry.Name}' must be a string, not {entry.Value.ValueKind}.");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!)) throw new InvalidDataException($"Metadata '{entry.Name}' appears twice.");
        }
    }

    private static (SafeTensorDataType, long[], long, long, string) ReadTensorInfo(string name, JsonElement info, long bufferLength)
    {
        if (info.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"Tensor '{name}': its entry must be an object, not {info.ValueKind}.");
        foreach (var field in info.EnumerateObject())
        {
            if (field.Name is not ("dtype" or "shape" or "data_offsets"))
                throw new InvalidDataException($"Tensor '{name}': unknown field '{field.Name}' (expected dtype, shape and data_offsets).");
        }

        if (!info.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"Tensor '{name}': 'dtype' is missing or not a string.");
        if (!SafeTensorDataTypes.TryParse(dtype.GetString()!, out var dataType))
            throw new InvalidDataException($"Tensor '{name}': dtype '{dtype.GetString()}' is not supported (F32, I32 and I64 are).");

        var shape = ReadIntegers(name, info, "shape", expectedCount: null);
        var offsets = ReadIntegers(name, info, "data_offsets", expectedCount: 2);
        var (begin, end) = (offsets[0], offsets[1]);
        if (begin > end) throw new InvalidDataException($"Tensor '{name}': data_offsets [{begin}, {end}] end before they begin.");
        if (end > bufferLength) throw new InvalidDataException($"Tensor '{name}': data_offsets [{begin}, {end}] go past the end of the {bufferLength}-byte data buffer.");

        var elementCount = SafeTensor.CountElements(shape);
        if (elementCount < 0 || elementCount > long.MaxValue / dataType.ElementSize())
            throw new InvalidDataException($"Tensor '{name}': shape [{string.Join(", ", shape)}] has too many elements.");
        var expectedBytes = elementCount * dataType.ElementSize();
        if (expectedBytes != end - begin)
            throw new InvalidDataException($"Tensor '{name}': shape [{string.Join(", ", shape)}] of {dtype.GetString()} needs {expectedBytes} bytes, but data_offsets [{begin}, {end}] hold {end - begin}.");
        return (dataType, shape, begin, end, name);
    }

    private static long[] ReadIntegers(string name, JsonElement info, string field, int? expectedCount)
    {
        if (!info.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"Tensor '{name}': '{field}' is missing or not an array.");
        if (expectedCount is { } count && array.GetArrayLength() != count)
            throw new InvalidDataException($"Tensor '{name}': '{field}' must have {count} entries, not {array.GetArrayLength()}.");

        var values = new long[array.GetArrayLength()];
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var value) || value < 0)
                throw new InvalidDataException($"Tensor '{name}': {field}[{index}] = {item.GetRawText()} is not a non-negative integer.");
            values[index++] = value;
        }

        return values;
    }

    /// <summary>The tensors must tile the buffer: sorted by offset, each starts where the previous ends, the last ends at its end.</summary>
    private static void CheckCoverage(List<(string Name, long Begin, long End)> spans, long bufferLength)
    {
        spans.Sort((left, right) => left.Begin != right.Begin ? left.Begin.CompareTo(right.Begin) : left.End.CompareTo(right.End));
        long covered = 0;
        string? previous = null;
        foreach (var (name, begin, end) in spans)
        {
            if (begin < covered)
                throw new InvalidDataException($"Tensors '{previous}' and '{name}' overlap: '{name}' begins at byte {begin}, before '{previous}' ends at {covered}.");
            if (begin > covered)
                throw new InvalidDataException($"Bytes [{covered}, {begin}) of the data buffer belong to no tensor (before '{name}').");
            covered = end;
            previous = name;
        }

        if (covered != bufferLength)
            throw new InvalidDataException($"The tensors cover {covered} bytes but the data buffer has {bufferLength}; the rest belongs to no tensor.");
    }
}
