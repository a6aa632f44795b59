using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Training;

/// <summary>
/// A training checkpoint: the step, every parameter, the optimizer state and the metrics so far, written
/// atomically (to a temporary file that is flushed to disk, then moved over the target) so a crash never
/// leaves a half-written checkpoint.
/// </summary>
public static class TrainingCheckpoint
{
    private const string Magic = "PIPELINES-CHECKPOINT";
    private const int FormatVersion = 1;

    /// <summary>Writes a checkpoint (weights, optimizer state, hooks' states, metrics) to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, long step, ParameterArena arena, IOptimizer optimizer, IReadOnlyList<StepMetrics> history, IReadOnlyList<ITrainingHook>? hooks = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            using (var writer = new BinaryWriter(stream))
            {
                writer.Write(Magic);
                writer.Write(FormatVersion);
                writer.Write(step);
                writer.Write(arena.Parameters.Count);
                foreach (var parameter in arena.Parameters)
                {
                    writer.Write(parameter.Name);
                    writer.Write(parameter.Length);
                    writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(arena.ValuesOf(parameter)));
                }

                optimizer.SaveState(writer);
                hooks ??= [];
                writer.Write(hooks.Count);
                foreach (var hook in hooks) hook.SaveState(writer);
                writer.Write(history.Count);
                foreach (var record in history) record.Write(writer);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>Restores a checkpoint into <paramref name="arena"/> and <paramref name="optimizer"/>; returns the step and the history.</summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint of this format, or its parameters differ from the arena's.</exception>
    public static (long Step, List<StepMetrics> History) Read(string path, ParameterArena arena, IOptimizer optimizer, IReadOnlyList<ITrainingHook>? hooks = null)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        try
        {
            if (reader.ReadString() != Magic) throw new InvalidDataException($"'{path}' is not a Pipelines checkpoint.");
            var version = reader.ReadInt32();
            if (version != FormatVersion) throw new InvalidDataException($"Checkpoint '{path}' has format version {version}; this library reads version {FormatVersion}.");
            var step = reader.ReadInt64();
            var count = reader.ReadInt32();
            if (count != arena.Parameters.Count) throw new InvalidDataException($"Checkpoint '{path}' holds {count} parameters; the model has {arena.Parameters.Count}.");
            foreach (var parameter in arena.Parameters)
            {
                var name = reader.ReadString();
                var length = reader.ReadInt32();
                if (name != parameter.Name || length != parameter.Length)
                    throw new InvalidDataException($"Checkpoint '{path}' has parameter '{name}' ({length} values) where the model has '{parameter.Name}' ({parameter.Length}).");
                reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(arena.ValuesOf(parameter)));
            }

            optimizer.LoadState(reader);
            hooks ??= [];
            var hookCount = reader.ReadInt32();
            if (hookCount != hooks.Count) throw new InvalidDataException($"Checkpoint '{path}' holds the state of {hookCount} training hooks; this run has {hooks.Count}.");
            foreach (var hook in hooks) hook.LoadState(reader);
            var historyCount = reader.ReadInt32();
            var history = new List<StepMetrics>(historyCount);
            for (var index = 0; index < historyCount; index++) history.Add(StepMetrics.Read(reader));
            return (step, history);
        }
        catch (EndOfStreamException exception)
        {
            throw new InvalidDataException($"Checkpoint '{path}' is truncated.", exception);
        }
    }
}
