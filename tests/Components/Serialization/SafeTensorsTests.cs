using System.Buffers.Binary;
using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Serialization;

namespace Pipelines.Components.Tests.Serialization;

[TestClass]
public sealed class SafeTensorsTests
{
    private static byte[] WriteToBytes(IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, tensors, metadata);
        return stream.ToArray();
    }

    /// <summary>A file made by hand: length prefix, the header text as given, then the data bytes.</summary>
    private static byte[] RawFile(string header, int dataLength) => RawFile(Encoding.UTF8.GetBytes(header), new byte[dataLength]);

    private static byte[] RawFile(byte[] header, byte[] data)
    {
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }

    private static InvalidDataException ReadFails(byte[] file) =>
        Assert.ThrowsExactly<InvalidDataException>(() => SafeTensors.Read(new MemoryStream(file)));

    [TestMethod]
    public void WritesTheFormatByteForByte()
    {
        var bytes = WriteToBytes([SafeTensor.Create("a", [2], [1f, 2f])]);
        // {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} is 54 bytes; 2 spaces make 8 + 56 a multiple of 8.
        var header = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""" + "  ";
        byte[] expected = [56, 0, 0, 0, 0, 0, 0, 0, .. Encoding.ASCII.GetBytes(header), 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40];
        CollectionAssert.AreEqual(expected, bytes);
    }

    [TestMethod]
    public void WritesMetadataFirstAndTensorsBackToBack()
    {
        var bytes = WriteToBytes(
            [SafeTensor.Create("x.weight", [1, 2], [3, 4]), SafeTensor.Create("step", [], [7L])],
            new Dictionary<string, string> { ["format"] = "pt" });
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.AreEqual(0, (8 + headerLength) % 8);
        Assert.AreEqual(
            """{"__metadata__":{"format":"pt"},"x.weight":{"dtype":"I32","shape":[1,2],"data_offsets":[0,8]},"step":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}""",
            Encoding.UTF8.GetString(bytes, 8, headerLength).TrimEnd(' '));
        Assert.AreEqual(8 + headerLength + 16, bytes.Length);
    }

    [TestMethod]
    public void RoundTripsEveryTypeAndOddShapes()
    {
        float[] floats = [1.5f, -0f, float.NaN, float.Epsilon, float.MaxValue, -3f, 0.1f];
        int[] ints = [int.MinValue, -1, 0, 1, int.MaxValue, 42];
        long[] longs = [long.MinValue, long.MaxValue, 0, -5, 1L << 40, 3, 9];
        var metadata = new Dictionary<string, string> { ["note"] = "héllo \"quoted\" 日本", ["step"] = "33" };
        var bytes = WriteToBytes(
            [
                SafeTensor.Create("blocks.0.weight", [7, 1], floats),
                SafeTensor.Create("ids", [2, 3], ints),
                SafeTensor.Create("big", [7], longs),
                SafeTensor.Create("empty", [0, 3], ReadOnlySpan<float>.Empty),
                SafeTensor.Create("scalar", [], [2.5f]),
            ],
            metadata);

        var file = SafeTensors.Read(new MemoryStream(bytes));
        CollectionAssert.AreEqual(floats.Select(BitConverter.SingleToInt32Bits).ToArray(), file["blocks.0.weight"].ToSingleArray().Select(BitConverter.SingleToInt32Bits).ToArray());
        CollectionAssert.AreEqual(new long[] { 7, 1 }, file["blocks.0.weight"].Shape.ToArray());
        CollectionAssert.AreEqual(ints, file["ids"].ToInt32Array());
        CollectionAssert.AreEqual(longs, file["big"].ToInt64Array());
        Assert.AreEqual(0, file["empty"].ElementCount);
        Assert.AreEqual(1, file["scalar"].ElementCount);
        Assert.AreEqual(2.5f, file["scalar"].ToSingleArray()[0]);
        CollectionAssert.AreEquivalent(metadata.ToArray(), file.Metadata.ToArray());
        CollectionAssert.AreEqual(new[] { "blocks.0.weight", "ids", "big", "empty", "scalar" }, file.Tensors.Select(tensor => tensor.Name).ToArray());
        Assert.ThrowsExactly<InvalidOperationException>(() => file["ids"].ToSingleArray());
    }

    [TestMethod]
    public void RoundTripsThroughAFileAndANonSeekableStream()
    {
        var path = Path.Combine(Path.GetTempPath(), $"safetensors-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensors.Write(path, [SafeTensor.Create("w", [3], [1f, 2f, 3f])]);
            CollectionAssert.AreEqual(new[] { 1f, 2f, 3f }, SafeTensors.Read(path)["w"].ToSingleArray());
            Assert.IsFalse(File.Exists(path + ".tmp"));
            using var stream = new NonSeekableStream(File.ReadAllBytes(path));
            CollectionAssert.AreEqual(new[] { 1f, 2f, 3f }, SafeTensors.Read(stream)["w"].ToSingleArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ReadsHeadersOfOtherWriters()
    {
        // Tensors listed out of data order, with whitespace; the reader returns them in data order.
        var file = SafeTensors.Read(new MemoryStream(RawFile(
            """{ "b": {"shape": [1], "dtype": "I32", "data_offsets": [4, 8]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]} }""", 8)));
        CollectionAssert.AreEqual(new[] { "a", "b" }, file.Tensors.Select(tensor => tensor.Name).ToArray());
        Assert.IsEmpty(file.Metadata);
    }

    [TestMethod]
    public void RejectsBadArgumentsWhenCreating()
    {
        Assert.ThrowsExactly<ArgumentException>(() => SafeTensor.Create("a", [2, 2], [1f, 2f, 3f]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SafeTensor.Create("a", [-1], [1f]));
        Assert.ThrowsExactly<ArgumentException>(() => SafeTensor.Create("", [1], [1f]));
        Assert.ThrowsExactly<ArgumentException>(() => WriteToBytes([SafeTensor.Create("a", [1], [1f]), SafeTensor.Create("a", [1], [2f])]));
        Assert.ThrowsExactly<ArgumentException>(() => WriteToBytes([SafeTensor.Create(SafeTensors.MetadataKey, [1], [1f])]));
    }

    [TestMethod]
    [DataRow("""{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}""", 4, "dtype 'F16'")]
    [DataRow("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "needs 12 bytes")]
    [DataRow("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", 8, "shape[0] = -2")]
    [DataRow("""{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}""", 8, "shape[0] = 1.5")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}""", 8, "'data_offsets' must have 2 entries")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", 8, "end before they begin")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, "go past the end")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "overlap")]
    [DataRow("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12, "Bytes [4, 8)")]
    [DataRow("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 8, "cover 4 bytes but the data buffer has 8")]
    [DataRow("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4, "twice")]
    [DataRow("""{"__metadata__":{"n":1},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4, "Metadata 'n' must be a string")]
    [DataRow("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":0}}""", 4, "unknown field 'extra'")]
    [DataRow("""{"a":{"shape":[1],"data_offsets":[0,4]}}""", 4, "'dtype' is missing")]
    [DataRow("""{"a":[1]}""", 4, "must be an object")]
    [DataRow("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}""", 4, "not valid JSON")]
    [DataRow("""["a"]""", 0, "must start with '{'")]
    [DataRow("""{"a":{"dtype":"F32","shape":[4611686018427387904, 4],"data_offsets":[0,4]}}""", 4, "too many elements")]
    public void RejectsCorruptHeaders(string header, int dataLength, string expectedMessagePart)
    {
        var exception = ReadFails(RawFile(header, dataLength));
        StringAssert.Contains(exception.Message, expectedMessagePart);
    }

    [TestMethod]
    public void RejectsBadLengthsAndEncodings()
    {
        StringAssert.Contains(ReadFails([1, 2, 3]).Message, "shorter than the 8-byte");
        var huge = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue);
        StringAssert.Contains(ReadFails(huge).Message, "is not between 2 and");
        var tooLong = RawFile("{}", 0);
        BinaryPrimitives.WriteUInt64LittleEndian(tooLong, 100);
        StringAssert.Contains(ReadFails(tooLong).Message, "exceeds the 2 bytes left");
        StringAssert.Contains(ReadFails(RawFile([(byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}'], [])).Message, "not valid JSON");
        var truncated = WriteToBytes([SafeTensor.Create("w", [4], [1f, 2f, 3f, 4f])]);
        StringAssert.Contains(ReadFails(truncated[..^3]).Message, "go past the end of the 13-byte data buffer");
    }

    [TestMethod]
    public void ReadsAnEmptyFile()
    {
        var file = SafeTensors.Read(new MemoryStream(WriteToBytes([])));
        Assert.IsEmpty(file.Tensors);
    }

    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => base.Position; set => throw new NotSupportedException(); }
    }
}
