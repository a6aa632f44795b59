using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Serialization;

namespace Pipelines.Components.Tests.Serialization;

/// <summary>
/// The reader against thousands of seeded random mutations of a valid file: it must return a file or throw
/// <see cref="InvalidDataException"/>, never hang, and never allocate far beyond the bytes it was given.
/// </summary>
[TestClass]
public sealed class SafeTensorsFuzzTests
{
    private const int MutantsPerKind = 2_000;

    public TestContext TestContext { get; set; } = null!;

    private static byte[] ValidFile()
    {
        using var stream = new MemoryStream();
        SafeTensors.Write(stream,
        [
            SafeTensor.Create("blocks.0.attention.weight", [4, 3], [.. Enumerable.Range(0, 12).Select(index => index * 0.5f)]),
            SafeTensor.Create("blocks.0.attention.bias", [3], [1, 2, 3]),
            SafeTensor.Create("step", [], [42L]),
        ], new Dictionary<string, string> { ["pipelines.step"] = "42", ["format"] = "pt" });
        return stream.ToArray();
    }

    private static readonly byte[] JsonPunctuation = "{}[]\",:0123456789-eE. \\"u8.ToArray();

    /// <summary>The kinds of mutation, each a pure function of the valid file and a seeded random source.</summary>
    private static readonly (string Name, Func<byte[], Random, byte[]> Mutate)[] Mutations =
    [
        ("flip one bit", (file, random) => With(file, copy => copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8)))),
        ("overwrite 1-8 random bytes", (file, random) => With(file, copy =>
        {
            for (var count = random.Next(1, 9); count > 0; count--) copy[random.Next(copy.Length)] = (byte)random.Next(256);
        })),
        ("overwrite a header byte with JSON punctuation", (file, random) => With(file, copy =>
            copy[8 + random.Next(HeaderLength(file))] = JsonPunctuation[random.Next(JsonPunctuation.Length)])),
        ("truncate", (file, random) => file[..random.Next(file.Length)]),
        ("insert or delete bytes", (file, random) =>
        {
            var at = random.Next(file.Length);
            return random.Next(2) == 0
                ? [.. file[..at], .. Enumerable.Range(0, random.Next(1, 16)).Select(_ => (byte)random.Next(256)), .. file[at..]]
                : [.. file[..at], .. file[Math.Min(file.Length, at + random.Next(1, 16))..]];
        }),
        ("rewrite the header length", (file, random) => With(file, copy =>
        {
            ulong[] lengths = [0, 1, 2, (ulong)HeaderLength(file) - 1, (ulong)HeaderLength(file) + 1, (ulong)SafeTensors.MaximumHeaderLength,
                (ulong)SafeTensors.MaximumHeaderLength + 1, uint.MaxValue, ulong.MaxValue, (ulong)random.NextInt64()];
            BinaryPrimitives.WriteUInt64LittleEndian(copy, lengths[random.Next(lengths.Length)]);
        })),
        ("replace a number in the header", (file, random) => ReplaceInHeader(file, random, "[0-9]+",
            ["-1", "0", "1", "4611686018427387904", "9223372036854775807", "18446744073709551616", "1e300", "1.5", "99999999999"])),
        ("replace a string in the header", (file, random) => ReplaceInHeader(file, random, "\"[^\"]*\"",
            ["\"\"", "\"F16\"", "\"F32\"", "\"I64\"", "\"__metadata__\"", "\"step\"", "{}", "[]", "null", "\"\\ud800\""])),
    ];

    private static int HeaderLength(byte[] file) => (int)BinaryPrimitives.ReadUInt64LittleEndian(file);

    private static byte[] With(byte[] file, Action<byte[]> change)
    {
        var copy = (byte[])file.Clone();
        change(copy);
        return copy;
    }

    /// <summary>Replaces one match of <paramref name="pattern"/> in the header text, keeping the length field consistent.</summary>
    private static byte[] ReplaceInHeader(byte[] file, Random random, string pattern, string[] replacements)
    {
        var header = Encoding.UTF8.GetString(file, 8, HeaderLength(file));
        var matches = System.Text.RegularExpressions.Regex.Matches(header, pattern);
        var match = matches[random.Next(matches.Count)];
        var changed = Encoding.UTF8.GetBytes(header[..match.Index] + replacements[random.Next(replacements.Length)] + header[(match.Index + match.Length)..]);
        var result = new byte[8 + changed.Length + file.Length - 8 - HeaderLength(file)];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)changed.Length);
        changed.CopyTo(result, 8);
        file.AsSpan(8 + HeaderLength(file)).CopyTo(result.AsSpan(8 + changed.Length));
        return result;
    }

    [TestMethod]
    [Timeout(60_000)]
    public void MutatedFilesReadOrThrowInvalidDataExceptionOnly()
    {
        var valid = ValidFile();
        Assert.HasCount(3, SafeTensors.Read(new MemoryStream(valid)).Tensors, "the seed file is valid");
        var clock = Stopwatch.StartNew();
        var summary = new List<string>();
        for (var kind = 0; kind < Mutations.Length; kind++)
        {
            var (name, mutate) = Mutations[kind];
            var random = new Random(2026 + kind);
            var (accepted, refused) = (0, 0);
            for (var mutant = 0; mutant < MutantsPerKind; mutant++)
            {
                var bytes = mutate(valid, random);
                // Half through a seekable stream, half through one that cannot tell its length.
                Stream stream = mutant % 2 == 0 ? new MemoryStream(bytes) : new UnseekableStream(bytes);
                var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                var started = clock.Elapsed;
                try
                {
                    SafeTensors.Read(stream);
                    accepted++;
                }
                catch (InvalidDataException)
                {
                    refused++;
                }
                catch (Exception error)
                {
                    Assert.Fail($"{name}, mutant {mutant}: {error.GetType().Name}: {error.Message}\nfile: {Convert.ToHexString(bytes)}");
                }

                var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
                Assert.IsLessThan(256 * 1024 + 64L * bytes.Length, allocated, $"{name}, mutant {mutant}: allocated {allocated} bytes for a {bytes.Length}-byte file");
                Assert.IsLessThan(TimeSpan.FromSeconds(1), clock.Elapsed - started, $"{name}, mutant {mutant}: took too long");
            }

            summary.Add($"{name}: {accepted} read, {refused} refused");
        }

        TestContext.WriteLine($"{Mutations.Length * MutantsPerKind} mutants in {clock.ElapsedMilliseconds} ms; {string.Join("; ", summary)}");
    }

    [TestMethod]
    public void AHeaderClaimingAHugeLengthIsRefusedBeforeAllocatingIt()
    {
        foreach (var claimed in new ulong[] { (ulong)SafeTensors.MaximumHeaderLength, (ulong)SafeTensors.MaximumHeaderLength + 1, ulong.MaxValue })
        {
            var file = new byte[8 + 16];
            BinaryPrimitives.WriteUInt64LittleEndian(file, claimed);
            "{\"a\":1}"u8.CopyTo(file.AsSpan(8));
            foreach (var stream in new Stream[] { new MemoryStream(file), new UnseekableStream(file) })
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                var error = Assert.ThrowsExactly<InvalidDataException>(() => SafeTensors.Read(stream));
                Assert.IsLessThan(1_000_000L, GC.GetAllocatedBytesForCurrentThread() - before, $"{claimed} via {stream.GetType().Name}: {error.Message}");
            }
        }
    }

    /// <summary>A read-only stream over bytes that cannot seek or tell its length, like a network stream.</summary>
    private sealed class UnseekableStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 7));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
