using System.Security.Cryptography;

namespace Pipelines.Model;

/// <summary>A write-only stream that forwards to an entry and computes its SHA-256 and length.</summary>
internal sealed class HashingWriteStream(Stream inner, Action<long, string> onClosed) : Stream
{
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long length;
    private bool closed;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => !closed;
    public override long Length => length;
    public override long Position { get => length; set => throw new NotSupportedException(); }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(closed, this);
        hash.AppendData(buffer);
        inner.Write(buffer);
        length += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !closed)
        {
            closed = true;
            inner.Dispose();
            onClosed(length, Convert.ToHexStringLower(hash.GetHashAndReset()));
            hash.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// A read-only stream over an entry that checks the entry's length and SHA-256 when the end is reached, and on
/// dispose (reading what is left), so a corrupt entry never goes unnoticed.
/// </summary>
internal sealed class VerifyingReadStream(Stream inner, string entryName, long expectedLength, string expectedHash) : Stream
{
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long position;
    private bool verified;
    private bool disposed;

    public override bool CanRead => !disposed;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => expectedLength;
    public override long Position { get => position; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var count = inner.Read(buffer);
        hash.AppendData(buffer[..count]);
        position += count;
        if (count == 0 && buffer.Length > 0) Verify();
        return count;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !disposed)
        {
            try
            {
                var rest = new byte[81920];
                while (!verified && Read(rest) > 0) { }
            }
            finally
            {
                disposed = true;
                inner.Dispose();
                hash.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private void Verify()
    {
        if (verified) return;
        verified = true;
        var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (position != expectedLength || !string.Equals(actual, expectedHash, StringComparison.Ordinal))
            throw new InvalidDataException(
                $"Model entry '{entryName}' is corrupt: {position} bytes with SHA-256 {actual}, expected {expectedLength} bytes with SHA-256 {expectedHash}.");
    }
}
