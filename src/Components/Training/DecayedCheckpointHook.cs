using System.Globalization;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Serialization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Training;

/// <summary>
/// Saves a copy of the model's weights (safetensors) after given step counts: the decayed checkpoints of a WSD-S
/// run, one model per budget, while the main branch trains on from the same weights.
/// </summary>
/// <remarks>
/// WSD-S (arXiv 2410.05192): after <c>Tk</c> updates the rate has decayed; the weights then are the model for budget
/// <c>Tk</c>, and the next cycle resumes from them at the peak (<see cref="WsdsPlan"/>). The hook writes the file in
/// <see cref="AfterUpdate"/> of step <c>Tk - 1</c>, before the trainer's checkpoint of that step, so a resumed run
/// never misses one. Files carry the metadata <c>pipelines.step</c> (the step count) and, when made from a plan,
/// <c>pipelines.plan</c> (its JSON). The hook's checkpointed state is the list of files written so far.
/// </remarks>
public sealed class DecayedCheckpointHook : ITrainingHook
{
    private const string Magic = "Pipelines.DecayedCheckpointHook";
    private const int FormatVersion = 1;

    private readonly long[] steps;
    private readonly Func<long, string> pathForStep;
    private readonly string? planJson;
    private readonly List<string> savedPaths = [];

    /// <summary>Saves the model after every budget of <paramref name="plan"/>, as <c>{directory}/{prefix}-step{T}.safetensors</c>.</summary>
    /// <param name="plan">The WSD-S plan: its <see cref="WsdsPlan.DecayedCheckpointSteps"/> are saved.</param>
    /// <param name="directory">Where the files go (created when needed).</param>
    /// <param name="fileNamePrefix">The files' name before <c>-step{T}</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="directory"/> or <paramref name="fileNamePrefix"/> is empty.</exception>
    public DecayedCheckpointHook(WsdsPlan plan, string directory, string fileNamePrefix = "decayed")
        : this(OptionGuard.NotNull(plan, nameof(plan)).DecayedCheckpointSteps, PathsIn(directory, fileNamePrefix))
    {
        planJson = plan.ToJson();
    }

    /// <summary>Saves the model after each of <paramref name="steps"/> updates, to <paramref name="pathForStep"/>(step).</summary>
    /// <param name="steps">Step counts (updates done), each &gt;= 1, strictly increasing.</param>
    /// <param name="pathForStep">The file for a step count.</param>
    /// <exception cref="ArgumentOutOfRangeException">A step below 1 or not above the one before.</exception>
    public DecayedCheckpointHook(IReadOnlyList<long> steps, Func<long, string> pathForStep)
    {
        ArgumentNullException.ThrowIfNull(steps);
        this.pathForStep = OptionGuard.NotNull(pathForStep, nameof(pathForStep));
        for (var index = 0; index < steps.Count; index++)
        {
            var previous = index == 0 ? 0 : steps[index - 1];
            if (steps[index] <= previous)
                throw new ArgumentOutOfRangeException(nameof(steps), steps[index], $"steps[{index}] = {steps[index]} must be above {previous}: step counts are strictly increasing and >= 1.");
        }

        this.steps = [.. steps];
    }

    /// <summary>The step counts after which the model is saved.</summary>
    public IReadOnlyList<long> CheckpointSteps => steps;

    /// <summary>The files written so far, in order (restored by <see cref="LoadState"/>).</summary>
    public IReadOnlyList<string> SavedPaths => savedPaths;

    /// <summary>The file the model after <paramref name="step"/> updates goes to.</summary>
    public string PathFor(long step) => pathForStep(step);

    /// <inheritdoc />
    public void AfterBackward(long step, ParameterArena arena)
    {
    }

    /// <inheritdoc />
    public void AfterUpdate(long step, ParameterArena arena, IOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(arena);
        if (SavesAfter(step + 1)) Save(step + 1, arena);
    }

    /// <summary>Whether the model is saved once <paramref name="stepsDone"/> updates are done (so a device copies its weights to the host only then).</summary>
    internal bool SavesAfter(long stepsDone) => Array.BinarySearch(steps, stepsDone) >= 0;

    /// <summary>Saves <paramref name="arena"/>'s values as the model after <paramref name="stepsDone"/> updates and records the file.</summary>
    internal void Save(long stepsDone, ParameterArena arena)
    {
        var path = pathForStep(stepsDone);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        var metadata = new Dictionary<string, string> { ["pipelines.step"] = stepsDone.ToString(CultureInfo.InvariantCulture) };
        if (planJson is not null) metadata["pipelines.plan"] = planJson;
        arena.SaveSafeTensors(path, metadata);
        savedPaths.Add(path);
    }

    /// <inheritdoc />
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(savedPaths.Count);
        foreach (var path in savedPaths) writer.Write(path);
    }

    /// <inheritdoc />
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (reader.ReadString() != Magic) throw new InvalidDataException("The checkpoint holds another hook's state where the decayed-checkpoint hook's was expected.");
        var version = reader.ReadInt32();
        if (version != FormatVersion) throw new InvalidDataException($"Decayed-checkpoint state format {version} is not the supported format {FormatVersion}.");
        var count = reader.ReadInt32();
        if (count < 0) throw new InvalidDataException($"The stored count of saved models {count} is negative.");
        var paths = new List<string>(count);
        for (var index = 0; index < count; index++) paths.Add(reader.ReadString());
        savedPaths.Clear();
        savedPaths.AddRange(paths);
    }

    private static Func<long, string> PathsIn(string directory, string fileNamePrefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(fileNamePrefix);
        return step => Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{fileNamePrefix}-step{step}.safetensors"));
    }
}
