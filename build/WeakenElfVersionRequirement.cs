// An MSBuild inline task (RoslynCodeTaskFactory, see LibTorchSharpGlibcxx.targets): marks one symbol-version
// requirement of 64-bit little-endian ELF shared libraries weak, when the system library lacks that version.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class WeakenElfVersionRequirement : Task
{
    private const uint VersionNeedsSectionType = 0x6ffffffe; // SHT_GNU_verneed, the .gnu.version_r section
    private const ushort WeakFlag = 0x2;                      // VER_FLG_WEAK

    [Required]
    public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();

    [Required]
    public string VersionName { get; set; } = "";

    [Required]
    public string SystemLibrary { get; set; } = "";

    public override bool Execute()
    {
        if (!File.Exists(SystemLibrary))
        {
            Log.LogMessage(MessageImportance.Low, $"{SystemLibrary} not found; {VersionName} requirements left as they are.");
            return true;
        }

        if (Contains(File.ReadAllBytes(SystemLibrary), Encoding.ASCII.GetBytes(VersionName + "\0")))
        {
            Log.LogMessage(MessageImportance.Low, $"{SystemLibrary} provides {VersionName}; nothing to weaken.");
            return true;
        }

        foreach (var library in Libraries)
        {
            var path = library.GetMetadata("FullPath");
            try
            {
                var bytes = File.ReadAllBytes(path);
                var changed = Weaken(bytes, VersionName);
                if (changed == 0)
                {
                    Log.LogMessage(MessageImportance.Low, $"{path}: no strong {VersionName} requirement.");
                    continue;
                }

                // Replace the file rather than write through it, so a hard link into the package cache stays intact;
                // keep its time stamp, so the next incremental build sees an unchanged copy and does not copy it again.
                var stamp = File.GetLastWriteTimeUtc(path);
                var temporary = path + ".weakening";
                File.WriteAllBytes(temporary, bytes);
                File.SetLastWriteTimeUtc(temporary, stamp);
                File.Delete(path);
                File.Move(temporary, path);
                Log.LogMessage(MessageImportance.High, $"{path}: marked {changed} {VersionName} requirement(s) weak ({SystemLibrary} lacks that version).");
            }
            catch (InvalidDataException exception)
            {
                Log.LogError($"{path}: {exception.Message}");
            }
        }

        return !Log.HasLoggedErrors;
    }

    /// <summary>Sets VER_FLG_WEAK on every Vernaux entry named <paramref name="versionName"/>; returns how many changed.</summary>
    private static int Weaken(byte[] elf, string versionName)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("not a 64-bit little-endian ELF file");

        var sectionTable = checked((int)ReadUInt64(elf, 0x28));   // e_shoff
        var sectionEntrySize = ReadUInt16(elf, 0x3a);            // e_shentsize
        var sectionCount = ReadUInt16(elf, 0x3c);                // e_shnum
        var wanted = Encoding.ASCII.GetBytes(versionName);
        var changed = 0;
        for (var section = 0; section < sectionCount; section++)
        {
            var header = sectionTable + section * sectionEntrySize;
            if (ReadUInt32(elf, header + 4) != VersionNeedsSectionType) continue;
            var needsOffset = checked((int)ReadUInt64(elf, header + 0x18));  // sh_offset
            var stringSection = (int)ReadUInt32(elf, header + 0x28);       // sh_link: the dynamic string table
            var needsCount = ReadUInt32(elf, header + 0x2c);               // sh_info: number of Verneed entries
            var strings = checked((int)ReadUInt64(elf, sectionTable + stringSection * sectionEntrySize + 0x18));

            var need = needsOffset;
            for (var needIndex = 0; needIndex < needsCount; needIndex++)
            {
                // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32.
                var auxiliaryCount = ReadUInt16(elf, need + 2);
                var auxiliary = need + (int)ReadUInt32(elf, need + 8);
                for (var auxiliaryIndex = 0; auxiliaryIndex < auxiliaryCount; auxiliaryIndex++)
                {
                    // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
                    var name = strings + (int)ReadUInt32(elf, auxiliary + 8);
                    if (NameEquals(elf, name, wanted))
                    {
                        var flags = ReadUInt16(elf, auxiliary + 4);
                        if ((flags & WeakFlag) == 0)
                        {
                            WriteUInt16(elf, auxiliary + 4, (ushort)(flags | WeakFlag));
                            changed++;
                        }
                    }

                    auxiliary += (int)ReadUInt32(elf, auxiliary + 12);
                }

                need += (int)ReadUInt32(elf, need + 12);
            }
        }

        return changed;
    }

    private static bool NameEquals(byte[] elf, int offset, byte[] name)
    {
        if (offset < 0 || offset + name.Length >= elf.Length || elf[offset + name.Length] != 0) return false;
        for (var index = 0; index < name.Length; index++)
        {
            if (elf[offset + index] != name[index]) return false;
        }

        return true;
    }

    private static bool Contains(byte[] haystack, byte[] needle)
    {
        for (var start = 0; start + needle.Length <= haystack.Length; start++)
        {
            if (NameAt(haystack, start, needle)) return true;
        }

        return false;
    }

    private static bool NameAt(byte[] bytes, int offset, byte[] name)
    {
        for (var index = 0; index < name.Length; index++)
        {
            if (bytes[offset + index] != name[index]) return false;
        }

        return true;
    }

    // ELF fields are read byte by byte: the task compiles against netstandard2.0, which has no BinaryPrimitives.
    private static ushort ReadUInt16(byte[] bytes, int offset) => (ushort)(bytes[offset] | bytes[offset + 1] << 8);

    private static uint ReadUInt32(byte[] bytes, int offset) => ReadUInt16(bytes, offset) | (uint)ReadUInt16(bytes, offset + 2) << 16;

    private static ulong ReadUInt64(byte[] bytes, int offset) => ReadUInt32(bytes, offset) | (ulong)ReadUInt32(bytes, offset + 4) << 32;

    private static void WriteUInt16(byte[] bytes, int offset, ushort value)
    {
        bytes[offset] = (byte)value;
        bytes[offset + 1] = (byte)(value >> 8);
    }
}
