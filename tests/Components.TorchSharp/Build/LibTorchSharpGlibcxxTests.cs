using System.Buffers.Binary;
using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Pipelines.Components.TorchSharp.Tests.Build;

/// <summary>
/// The build step of <c>build/LibTorchSharpGlibcxx.targets</c>: in this test's output, LibTorchSharp's GLIBCXX_3.4.32
/// requirement is weak exactly when the system libstdc++ lacks that version, and the NuGet cache's copy is untouched.
/// </summary>
[TestClass]
public sealed class LibTorchSharpGlibcxxTests
{
    private const string Version = "GLIBCXX_3.4.32";
    private const string SystemLibrary = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";

    [TestMethod]
    public void TheOutputCopyIsWeakExactlyWhenTheSystemLacksTheVersion()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(SystemLibrary)) Assert.Inconclusive("Not a Debian-style x64 Linux.");
        var output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        var systemHasVersion = File.ReadAllBytes(SystemLibrary).AsSpan().IndexOf(Encoding.ASCII.GetBytes(Version + "\0")) >= 0;

        Assert.AreEqual(!systemHasVersion, IsWeak(File.ReadAllBytes(output), Version),
            $"{output}: the {Version} requirement must be weak exactly when {SystemLibrary} lacks the version (it {(systemHasVersion ? "has" : "lacks")} it).");
    }

    [TestMethod]
    public void ThePackageCacheCopyIsLeftStrong()
    {
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var packaged = Path.Combine(cache, "torchsharp", typeof(global::TorchSharp.torch).Assembly.GetName().Version!.ToString(3), "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (!File.Exists(packaged)) Assert.Inconclusive($"No package cache copy at {packaged}.");
        Assert.IsFalse(IsWeak(File.ReadAllBytes(packaged), Version), $"{packaged} was modified.");
    }

    /// <summary>Whether the Vernaux entry named <paramref name="version"/> in .gnu.version_r has VER_FLG_WEAK (0x2); throws if there is none.</summary>
    private static bool IsWeak(byte[] elf, string version)
    {
        var sections = (int)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(0x28));
        var entrySize = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3a));
        var count = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3c));
        for (var section = 0; section < count; section++)
        {
            var header = sections + section * entrySize;
            if (BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(header + 4)) != 0x6ffffffe) continue; // SHT_GNU_verneed
            var need = (int)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(header + 0x18));
            var strings = (int)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(sections + (int)BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(header + 0x28)) * entrySize + 0x18));
            for (var needIndex = 0; needIndex < BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(header + 0x2c)); needIndex++)
            {
                var auxiliary = need + (int)BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(need + 8));
                for (var auxiliaryIndex = 0; auxiliaryIndex < BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(need + 2)); auxiliaryIndex++)
                {
                    var name = strings + (int)BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(auxiliary + 8));
                    var end = Array.IndexOf(elf, (byte)0, name);
                    if (Encoding.ASCII.GetString(elf, name, end - name) == version)
                        return (BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(auxiliary + 4)) & 0x2) != 0;
                    auxiliary += (int)BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(auxiliary + 12));
                }

                need += (int)BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(need + 12));
            }
        }

        throw new AssertFailedException($"The library has no {version} requirement.");
    }
}
