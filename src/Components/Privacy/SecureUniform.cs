using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Pipelines.Components.Privacy;

/// <summary>Uniform doubles in [0, 1) with 53 bits each from the operating system's cryptographically secure generator, fetched 64 at a time.</summary>
internal sealed class SecureUniform
{
    private readonly ulong[] buffer = new ulong[64];
    private int next = 64;

    /// <summary>The next uniform in [0, 1).</summary>
    public double Next()
    {
        if (next == buffer.Length)
        {
            RandomNumberGenerator.Fill(MemoryMarshal.AsBytes(buffer.AsSpan()));
            next = 0;
        }

        return (buffer[next++] >> 11) * (1.0 / (1UL << 53));
    }
}
