using Pipelines.Components.Serialization;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Training;

/// <summary>
/// A training checkpoint: the step, the run's record, every parameter, the optimizer state and the metrics so far,
/// written atomically (to a temporary file that is flushed to disk, then moved over the target) so a crash never
/// leaves a half-written checkpoint.
/// </summary>
/// <remarks>
/// The run's <see cref="RunRecord"/> (model configuration, batch shape, seed, optimizer and schedule, data fingerprint)
/// comes right after the step, so a resume under a different run is refused before anything is loaded
/// (<see cref="RunChangedException"/>). Format 1, written before the record existed, is refused with a message saying so.
/// </remarks>
public static class TrainingCheckpoint
{
    private const string Magic = "PIPELINES-CHECKPOINT";
    private const int FormatVersion = 2;
    private const int FormatWithoutRunRecord = 1;

    /// <summary>Writes a checkpoint (run record, weights, optimizer state, hooks' states, metrics) to <paramref name="path"/> atomically.</summary>
    /// <param name="path">The checkpoint file; replaced only once the new one is complete on disk.</param>
    /// <param name="step">Updates done.</param>
    /// <param name="arena">The weights.</param>
    /// <param name="optimizer">The optimizer, whose state is saved.</param>
    /// <param name="history">The metrics so far.</param>
    /// <param name="hooks">The training hooks, whose states are saved in order.</param>
    /// <param name="run">The run's record, checked on resume.</param>
    public static void Write(string path, long step, ParameterArena arena, IOptimizer optimizer, IReadOnlyList<StepMetrics> history,
        IReadOnlyList<ITrainingHook>? hooks, RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Write(path, step, arena, optimizer.SaveState, history, hooks, run);
    }

    /// <summary>
    /// Writes a checkpoint whose optimizer state is written by <paramref name="saveOptimizerState"/> (an optimizer that
    /// is not an <see cref="IOptimizer"/>, such as one on a device), atomically, in the same format.
    /// </summary>
    internal static void Write(string path, long step, ParameterArena arena, Action<BinaryWriter> saveOptimizerState, IReadOnlyList<StepMetrics> history,
        IReadOnlyList<ITrainingHook>? hooks, RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        AtomicFile.Write(path, stream => Write(stream, step, arena, saveOptimizerState, history, hooks, run));
    }

    /// <summary>Writes a checkpoint's content to <paramref name="stream"/> (not atomically; see the path overload).</summary>
    /// <param name="stream">Where the content goes; left open.</param>
    /// <param name="step">Updates done.</param>
    /// <param name="arena">The weights.</param>
    /// <param name="optimizer">The optimizer, whose state is saved.</param>
    /// <param name="history">The metrics so far.</param>
    /// <param name="hooks">The training hooks, whose states are saved in order.</param>
    /// <param name="run">The run's record, checked on resume.</param>
    public static void Write(Stream stream, long step, ParameterArena arena, IOptimizer optimizer, IReadOnlyList<StepMetrics> history,
        IReadOnlyList<ITrainingHook>? hooks, RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Write(stream, step, arena, optimizer.SaveState, history, hooks, run);
    }

    private static void Write(Stream stream, long step, ParameterArena arena, Action<BinaryWriter> saveOptimizerState, IReadOnlyList<StepMetrics> history,
        IReadOnlyList<ITrainingHook>? hooks, RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(arena);
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(run);
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(step);
        run.Write(writer);
        writer.Write(arena.Parameters.Count);
        foreach (var parameter in arena.Parameters)
        {
            writer.Write(parameter.Name);
            writer.Write(parameter.Length);
            writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(arena.ValuesOf(parameter)));
        }

        saveOptimizerState(writer);
        hooks ??= [];
        writer.Write(hooks.Count);
        foreach (var hook in hooks) hook.SaveState(writer);
        writer.Write(history.Count);
        foreach (var record in history) record.Write(writer);
        writer.Flush();
    }

    /// <summary>Restores a checkpoint into <paramref name="arena"/> and <paramref name="optimizer"/>; returns the step and the history.</summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="arena">The weights to overwrite.</param>
    /// <param name="optimizer">The optimizer whose state to restore.</param>
    /// <param name="hooks">The training hooks whose states to restore, as when written.</param>
    /// <param name="run">The resuming run's record, compared with the checkpoint's before anything is loaded.</param>
    /// <param name="acceptedChanges">
    /// Kinds of difference declared on purpose. Schedule differences are left to a <see cref="ScheduleLayoutHook"/>
    /// among <paramref name="hooks"/>, which checks plans more closely.
    /// </param>
    /// <exception cref="RunChangedException">The checkpoint's run differs from <paramref name="run"/> in a kind not accepted; every difference is named.</exception>
    /// <exception cref="InvalidDataException">The file is not a checkpoint of this format (or of format 1, which has no run record), or its parameters differ from the arena's.</exception>
    public static (long Step, List<StepMetrics> History) Read(string path, ParameterArena arena, IOptimizer optimizer, IReadOnlyList<ITrainingHook>? hooks,
        RunRecord run, RunChanges acceptedChanges = RunChanges.None)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        return Read(path, arena, optimizer.LoadState, hooks, run, acceptedChanges);
    }

    /// <summary>Restores a checkpoint whose optimizer state <paramref name="loadOptimizerState"/> reads (an optimizer that is not an <see cref="IOptimizer"/>); see the public overload.</summary>
    internal static (long Step, List<StepMetrics> History) Read(string path, ParameterArena arena, Action<BinaryReader> loadOptimizerState, IReadOnlyList<ITrainingHook>? hooks,
        RunRecord run, RunChanges acceptedChanges)
    {
        ArgumentNullException.ThrowIfNull(arena);
        ArgumentNullException.ThrowIfNull(run);
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        try
        {
            if (reader.ReadString() != Magic) throw new InvalidDataException($"'{path}' is not a Pipelines checkpoint.");
            var version = reader.ReadInt32();
            if (version == FormatWithoutRunRecord)
                throw new InvalidDataException($"Checkpoint '{path}' has format version {FormatWithoutRunRecord}, written before checkpoints recorded their run "
                    + "(model configuration, batch size, sequence length, seed, optimizer and schedule, data fingerprint); a resume from it cannot be checked "
                    + "for silent changes, so it is refused. Start the run again, or finish it with the version that wrote it.");
            if (version != FormatVersion) throw new InvalidDataException($"Checkpoint '{path}' has format version {version}; this library reads version {FormatVersion}.");
            var step = reader.ReadInt64();
            hooks ??= [];
            var stored = RunRecord.Read(reader);
            if (hooks.Any(hook => hook is ScheduleLayoutHook)) acceptedChanges |= RunChanges.LearningRateSchedule;
            var differences = run.DifferencesFrom(stored, acceptedChanges);
            if (differences.Count > 0) throw new RunChangedException(path, differences);
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

            loadOptimizerState(reader);
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
