using System.Buffers.Binary;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Pipelines.Components.Serialization;

/// <summary>Reads and writes the safetensors format (F32, I32 and I64 tensors).</summary>
/// <remarks>
/// Layout: 8 bytes little-endian unsigned N, then N bytes of UTF-8 JSON header, then the data buffer. The header
/// maps each tensor name to <c>{"dtype":"F32","shape":[2,3],"data_offsets":[begin,end]}</c> (byte offsets into
/// the data buffer, end exclusive) and may hold <c>"__metadata__"</c>, a map of strings to strings. Data is
/// little-endian and row-major; the tensors cover the buffer exactly, without holes or overlap.
/// <para>
/// The writer emits compact JSON with <c>__metadata__</c> first (when not empty) and then the tensors in the given
/// order, laid out back to back in that order; it pads the header with spaces so that the data starts on an
/// 8-byte boundary, as the reference implementation does. The reader accepts any valid file of these types and
/// throws <see cref="InvalidDataException"/> naming the first problem it finds.
/// </para>
/// </remarks>
public static class SafeTensors
{
    /// <summary>The header key of the metadata map.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>The largest header accepted, as in the reference implementation (100 MB).</summary>
    public const long MaximumHeaderLength = 100_000_000;

    private static readonly JsonWriterOptions HeaderWriterOptions = new() { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes tensors and metadata to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, SafeTensorFile content)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(content);
        var header = BuildHeader(content);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var tensor in content.Tensors) stream.Write(tensor.Bytes);
    }

    /// <summary>Writes tensors (and optional metadata) to <paramref name="stream"/>.</summary>
    /// <exception cref="ArgumentException">Two tensors share a name, or a name is <c>__metadata__</c>.</exception>
    public static void Write(Stream stream, IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(stream, new SafeTensorFile(tensors, metadata));

    /// <summary>Writes a file, replacing <paramref name="path"/> only once the new content is complete.</summary>
    public static void Write(string path, SafeTensorFile content)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(content);
        var temporaryPath = path + ".tmp";
        using (var stream = File.Create(temporaryPath))
        {
            Write(stream, content);
        }

        File.Move(temporaryPath, path, overwrite: true);
    }

    /// <summary>Writes tensors (and optional metadata) to a file; see <see cref="Write(string, SafeTensorFile)"/>.</summary>
    /// <exception cref="ArgumentException">Two tensors share a name, or a name is <c>__metadata__</c>.</exception>
    public static void Write(string path, IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, new SafeTensorFile(tensors, metadata));

    /// <summary>Reads a whole safetensors stream (from its current position to its end).</summary>
    /// <exception cref="InvalidDataException">The content is not a valid safetensors file of F32, I32 and I64 tensors; the message says what is wrong.</exception>
    public static SafeTensorFile Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.ReadAtLeast(lengthBytes, 8, throwOnEndOfStream: false) < 8)
            throw new InvalidDataException("The file is shorter than the 8-byte header length.");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength < 2 || headerLength > MaximumHeaderLength)
            throw new InvalidDataException($"The header length {headerLength} is not between 2 and {MaximumHeaderLength} bytes.");
        if (stream.CanSeek && (long)headerLength > stream.Length - stream.Position)
            throw new InvalidDataException($"The header length {headerLength} exceeds the {stream.Length - stream.Position} bytes left in the file.");

        // A stream that cannot tell its length gets the header in growing chunks, so a length field claiming 100 MB
        // costs memory only for the bytes that really arrive.
        var header = stream.CanSeek ? new byte[headerLength] : ReadGrowing(stream, (int)headerLength);
        if (stream.CanSeek && stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length)
            throw new InvalidDataException($"The file ends inside the {headerLength}-byte header.");
        var buffer = ReadToEnd(stream);
        return SafeTensorHeaderParser.Parse(header, buffer);
    }

    /// <summary>Reads a safetensors file.</summary>
    /// <exception cref="InvalidDataException">See <see cref="Read(Stream)"/>.</exception>
    public static SafeTensorFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = File.OpenRead(path);
        return Read(stream);
    }

    /// <summary>The header bytes (JSON plus padding spaces) that <see cref="Write(Stream, SafeTensorFile)"/> writes after the length.</summary>
    internal static byte[] BuildHeader(SafeTensorFile content)
    {
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json, HeaderWriterOptions))
        {
            writer.WriteStartObject();
            if (content.Metadata.Count > 0)
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in content.Metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }

            long offset = 0;
            foreach (var tensor in content.Tensors)
            {
                writer.WriteStartObject(tensor.Name);
                writer.WriteString("dtype", tensor.DataType.FormatName());
                writer.WriteStartArray("shape");
                foreach (var dimension in tensor.Shape) writer.WriteNumberValue(dimension);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                offset += tensor.Bytes.Length;
                writer.WriteNumberValue(offset);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        var length = json.Length;
        var padded = (length + 8 + 7) / 8 * 8 - 8;
        while (json.Length < padded) json.WriteByte((byte)' ');
        return json.ToArray();
    }

    /// <summary>Reads exactly <paramref name="length"/> bytes, allocating at most twice what has arrived so far.</summary>
    private static byte[] ReadGrowing(Stream stream, int length)
    {
        var bytes = new byte[Math.Min(length, 64 * 1024)];
        var filled = 0;
        while (filled < length)
        {
            if (filled == bytes.Length) Array.Resize(ref bytes, (int)Math.Min(length, 2L * bytes.Length));
            var read = stream.Read(bytes, filled, bytes.Length - filled);
            if (read == 0) throw new InvalidDataException($"The file ends inside the {length}-byte header, after {filled} bytes.");
            filled += read;
        }

        return bytes;
    }

    private static byte[] ReadToEnd(Stream stream)
    {
        if (stream.CanSeek)
        {
            var remaining = stream.Length - stream.Position;
            if (remaining > Array.MaxLength) throw new InvalidDataException($"The data buffer has {remaining} bytes, more than one array can hold.");
            var buffer = new byte[remaining];
            if (stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) < buffer.Length)
                throw new InvalidDataException("The file ended while reading the data buffer.");
            return buffer;
        }

        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
