using Pipelines.Components.Tensors;

namespace Pipelines.Components.Sparsity;

public sealed partial class PruningMask
{
    /// <summary>Prefix of the tensor names made by <see cref="ToTensors"/>: <c>mask.&lt;parameter name&gt;</c>.</summary>
    public const string TensorPrefix = "mask.";

    private const string Magic = "PIPELINES-PRUNING-MASK";
    private const int FormatVersion = 1;

    /// <summary>Writes the mask: its layout, then per prunable parameter its name, length and kept bits (eight entries a byte).</summary>
    public void Write(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(buffer.Length);
        writer.Write(prunable.Length);
        foreach (var slice in prunable)
        {
            writer.Write(slice.Name);
            writer.Write(slice.Length);
            var entries = buffer.AsSpan(slice.Offset, slice.Length);
            var packed = new byte[(slice.Length + 7) / 8];
            for (var index = 0; index < entries.Length; index++)
            {
                if (entries[index] != 0f) packed[index >> 3] |= (byte)(1 << (index & 7));
            }

            writer.Write(packed);
        }
    }

    /// <summary>Writes the mask to <paramref name="stream"/> (left open).</summary>
    public void Write(Stream stream)
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        Write(writer);
    }

    /// <summary>Reads a mask written by <see cref="Write(BinaryWriter)"/>; its prunable parameters are the stored ones, found by name in <paramref name="arena"/>.</summary>
    /// <exception cref="InvalidDataException">The data is not a mask, or does not fit <paramref name="arena"/>.</exception>
    public static PruningMask Read(BinaryReader reader, ParameterArena arena)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(arena);
        return ReadCore(reader, arena.Parameters, arena.ParameterCount, arena.BufferLength);
    }

    /// <summary>Reads a mask from <paramref name="stream"/> (left open); see <see cref="Read(BinaryReader, ParameterArena)"/>.</summary>
    public static PruningMask Read(Stream stream, ParameterArena arena)
    {
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        return Read(reader, arena);
    }

    /// <summary>Overwrites this mask with one written by <see cref="Write(BinaryWriter)"/> for the same prunable parameters.</summary>
    /// <exception cref="InvalidDataException">The data is not a mask, or its parameters differ from this mask's.</exception>
    public void ReadInto(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var stored = ReadCore(reader, parameters, ParameterCount, buffer.Length);
        if (!stored.prunable.Select(Describe).SequenceEqual(prunable.Select(Describe)))
            throw new InvalidDataException($"The stored mask prunes [{string.Join(", ", stored.prunable.Select(slice => slice.Name))}]; this mask prunes [{string.Join(", ", prunable.Select(slice => slice.Name))}].");
        CopyFrom(stored);
    }

    /// <summary>The mask of each prunable parameter as a float tensor of 0s and 1s, named <c>mask.&lt;parameter name&gt;</c>, so a model file can carry it.</summary>
    public IReadOnlyDictionary<string, float[]> ToTensors() =>
        prunable.ToDictionary(slice => TensorPrefix + slice.Name, slice => buffer.AsSpan(slice.Offset, slice.Length).ToArray(), StringComparer.Ordinal);

    /// <summary>
    /// Rebuilds a mask from tensors made by <see cref="ToTensors"/>; the prunable parameters are those named.
    /// Tensors whose names do not start with <see cref="TensorPrefix"/> are ignored, so a whole model file's
    /// tensors can be passed.
    /// </summary>
    /// <exception cref="ArgumentException">A mask tensor names no parameter of <paramref name="arena"/>, has the wrong length, or holds a value other than 0 or 1.</exception>
    public static PruningMask FromTensors(IReadOnlyDictionary<string, float[]> tensors, ParameterArena arena)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(arena);
        var entries = new List<(ParameterSlice Slice, float[] Values)>();
        foreach (var (key, values) in tensors)
        {
            if (!key.StartsWith(TensorPrefix, StringComparison.Ordinal)) continue;
            var name = key[TensorPrefix.Length..];
            if (!arena.Contains(name)) throw new ArgumentException($"Mask tensor '{key}' names no parameter of the arena.", nameof(tensors));
            var slice = arena[name];
            if (values is null || values.Length != slice.Length)
                throw new ArgumentException($"Mask tensor '{key}' has {values?.Length ?? 0} values; parameter '{name}' has {slice.Length}.", nameof(tensors));
            for (var index = 0; index < values.Length; index++)
            {
                if (values[index] is not (0f or 1f))
                    throw new ArgumentException($"Mask tensor '{key}' holds {values[index]} at index {index}; a mask holds only 0 and 1.", nameof(tensors));
            }

            entries.Add((slice, values));
        }

        entries.Sort((left, right) => left.Slice.Offset.CompareTo(right.Slice.Offset));
        var mask = new PruningMask(arena.Parameters, arena.ParameterCount, arena.BufferLength, entries.Select(entry => entry.Slice).ToArray());
        for (var position = 0; position < entries.Count; position++)
        {
            var (slice, values) = entries[position];
            values.CopyTo(mask.buffer, slice.Offset);
            mask.prunedCounts[position] = values.LongCount(value => value == 0f);
        }

        mask.PrunedCount = mask.prunedCounts.Sum();
        return mask;
    }

    private static PruningMask ReadCore(BinaryReader reader, IReadOnlyList<ParameterSlice> parameters, long parameterCount, int bufferLength)
    {
        try
        {
            if (reader.ReadString() != Magic) throw new InvalidDataException("The data is not a Pipelines pruning mask.");
            var version = reader.ReadInt32();
            if (version != FormatVersion) throw new InvalidDataException($"The pruning mask has format version {version}; this library reads version {FormatVersion}.");
            var storedLength = reader.ReadInt32();
            if (storedLength != bufferLength) throw new InvalidDataException($"The pruning mask covers a buffer of {storedLength} floats; the arena's is {bufferLength}.");
            var count = reader.ReadInt32();
            if (count < 0 || count > parameters.Count) throw new InvalidDataException($"The pruning mask claims {count} prunable parameters; the arena has {parameters.Count}.");
            var byName = parameters.ToDictionary(slice => slice.Name, StringComparer.Ordinal);
            var entries = new List<(ParameterSlice Slice, byte[] Packed)>(count);
            for (var position = 0; position < count; position++)
            {
                var name = reader.ReadString();
                var length = reader.ReadInt32();
                if (!byName.TryGetValue(name, out var slice)) throw new InvalidDataException($"The pruning mask names parameter '{name}', which the arena lacks.");
                if (length != slice.Length) throw new InvalidDataException($"The pruning mask has {length} entries for '{name}'; the arena's parameter has {slice.Length}.");
                if (entries.Any(entry => entry.Slice == slice)) throw new InvalidDataException($"The pruning mask names parameter '{name}' twice.");
                entries.Add((slice, reader.ReadBytes((length + 7) / 8)));
                if (entries[^1].Packed.Length != (length + 7) / 8) throw new EndOfStreamException();
            }

            entries.Sort((left, right) => left.Slice.Offset.CompareTo(right.Slice.Offset));
            var mask = new PruningMask(parameters, parameterCount, bufferLength, entries.Select(entry => entry.Slice).ToArray());
            for (var position = 0; position < entries.Count; position++)
            {
                var (slice, packed) = entries[position];
                var target = mask.buffer.AsSpan(slice.Offset, slice.Length);
                long pruned = 0;
                for (var index = 0; index < target.Length; index++)
                {
                    var kept = (packed[index >> 3] >> (index & 7) & 1) != 0;
                    target[index] = kept ? 1f : 0f;
                    if (!kept) pruned++;
                }

                mask.prunedCounts[position] = pruned;
            }

            mask.PrunedCount = mask.prunedCounts.Sum();
            return mask;
        }
        catch (EndOfStreamException exception)
        {
            throw new InvalidDataException("The pruning mask is truncated.", exception);
        }
    }
}
