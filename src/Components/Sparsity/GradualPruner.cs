using Pipelines.Components.Tensors;

namespace Pipelines.Components.Sparsity;

/// <summary>
/// Gradual magnitude pruning during training: owns the mask, the sparsity schedule and the criterion, prunes
/// at the schedule's pruning steps and tracks the non-zero parameter count of every step.
/// </summary>
/// <remarks>
/// <para>Sparse pre-training (arXiv 2501.12486) with the cubic schedule of Zhu &amp; Gupta (arXiv 1710.01878).
/// The training loop follows the order documented on <see cref="ApplyMaskTransform"/>: mask gradients,
/// optimizer step (chain ending in <see cref="ApplyMaskTransform"/> over <see cref="Mask"/>), then
/// <see cref="OnStepCompleted"/>.</para>
/// <para>Average parameter count: <c>Nbar = (1/T) sum_{t=1..T} N(t)</c>, where N(t) is the number of unpruned
/// parameters of the whole model (non-prunable ones included) in force during update t, i.e. after the pruner
/// acted at step t - 1. The paper's scaling law replaces N by Nbar in Chinchilla's law
/// (<see cref="SparseScalingLaw"/>).</para>
/// </remarks>
public sealed class GradualPruner
{
    private const string Magic = "PIPELINES-GRADUAL-PRUNER";
    private const int FormatVersion = 1;

    private readonly List<long> nonZeroCounts = [];
    private readonly List<PruningEvent> events = [];

    /// <summary>Creates a pruner for <paramref name="arena"/> from validated <paramref name="options"/>.</summary>
    /// <param name="arena">The model's parameters.</param>
    /// <param name="options">Schedule and criterion; validated here.</param>
    /// <param name="isPrunable">Which parameters may be pruned; null = linear weights only.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (the exception names it).</exception>
    public GradualPruner(ParameterArena arena, PruningOptions options, Func<ParameterSlice, bool>? isPrunable = null)
    {
        ArgumentNullException.ThrowIfNull(arena);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Mask = new PruningMask(arena, isPrunable);
        Schedule = options.CreateSchedule();
        Criterion = options.CreateCriterion();
    }

    /// <summary>Creates a pruner from its parts (a custom schedule or criterion, or a mask loaded from a model file).</summary>
    public GradualPruner(PruningMask mask, ISparsitySchedule schedule, IPruningCriterion criterion)
    {
        Mask = mask ?? throw new ArgumentNullException(nameof(mask));
        Schedule = schedule ?? throw new ArgumentNullException(nameof(schedule));
        Criterion = criterion ?? throw new ArgumentNullException(nameof(criterion));
    }

    /// <summary>The mask; updated in place, so an <see cref="ApplyMaskTransform"/> over it always sees the current one.</summary>
    public PruningMask Mask { get; }

    /// <summary>The target sparsity over the run.</summary>
    public ISparsitySchedule Schedule { get; }

    /// <summary>Which weights go at each pruning step.</summary>
    public IPruningCriterion Criterion { get; }

    /// <summary>Updates recorded so far.</summary>
    public long CompletedSteps => nonZeroCounts.Count;

    /// <summary>Entry t - 1: unpruned parameters (whole model) in force during update t.</summary>
    public IReadOnlyList<long> NonZeroCounts => nonZeroCounts;

    /// <summary>Every pruning step so far, in order.</summary>
    public IReadOnlyList<PruningEvent> Events => events;

    /// <summary>
    /// Call after each update with the number of completed updates (and optionally once with 0 before the first
    /// update, needed when the schedule prunes at step 0). Masks the values, records the step's non-zero count,
    /// and at a pruning step extends the mask, zeroes the newly pruned values and invokes
    /// <paramref name="zeroOptimizerState"/> with the mask so the caller zeroes the optimizer state of pruned
    /// weights (for example with <see cref="ApplyMaskTransform.MaskState(Optimization.TransformState)"/>).
    /// </summary>
    /// <returns>Whether any weight was newly pruned (the callback runs only then).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is not the next step (<see cref="CompletedSteps"/> + 1, or 0 before any).</exception>
    /// <exception cref="ArgumentException"><paramref name="arena"/> does not have the mask's layout.</exception>
    public bool OnStepCompleted(long step, ParameterArena arena, Action<PruningMask>? zeroOptimizerState = null)
    {
        Mask.RequireLayoutOf(arena, nameof(arena));
        var pruning = RecordStep(step);
        var values = arena.Values;
        Mask.ApplyTo(values);
        if (!pruning || PruneAt(step, values) == 0) return false;
        Mask.ApplyTo(values);
        zeroOptimizerState?.Invoke(Mask);
        return true;
    }

    /// <summary>
    /// The bookkeeping half of <see cref="OnStepCompleted"/>, for weights that live elsewhere (a device): records the
    /// non-zero count of <paramref name="step"/> and says whether the schedule prunes now (then call <see cref="PruneAt"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is not the next step.</exception>
    internal bool RecordStep(long step)
    {
        if (step == CompletedSteps + 1) nonZeroCounts.Add(Mask.NonZeroCount);
        else if (!(step == 0 && CompletedSteps == 0))
            throw new ArgumentOutOfRangeException(nameof(step), step, $"Expected step {CompletedSteps + 1} (the number of completed updates), or 0 before the first.");
        return Schedule.IsPruningStep(step);
    }

    /// <summary>
    /// The pruning half of <see cref="OnStepCompleted"/>: extends the mask to the schedule's target at <paramref name="step"/>
    /// by the criterion over <paramref name="values"/> (laid out like the arena, pruned entries already zero) and records the event.
    /// </summary>
    /// <returns>How many entries were newly pruned.</returns>
    internal long PruneAt(long step, ReadOnlySpan<float> values)
    {
        Mask.RequireBufferLength(values.Length, nameof(values));
        var target = Schedule.TargetSparsityAt(step);
        var newlyPruned = Criterion.Prune(values, Mask, target);
        events.Add(new PruningEvent(step, target, Mask.PrunableSparsity, newlyPruned));
        return newlyPruned;
    }

    /// <summary>Zeroes the gradients of pruned weights (call between backward and the optimizer step).</summary>
    public void MaskGradients(ParameterArena arena)
    {
        Mask.RequireLayoutOf(arena, nameof(arena));
        Mask.ApplyTo(arena.Gradients);
    }

    /// <summary>Nbar = (1/T) sum_t N(t) over the recorded updates.</summary>
    /// <exception cref="InvalidOperationException">No update has been recorded.</exception>
    public double AverageParameterCount()
    {
        if (nonZeroCounts.Count == 0) throw new InvalidOperationException("No update has been recorded yet.");
        double sum = 0;
        foreach (var count in nonZeroCounts) sum += count;
        return sum / nonZeroCounts.Count;
    }

    /// <summary>Nbar weighted by tokens: sum_t N(t) D_t / sum_t D_t, for runs whose tokens per update vary.</summary>
    /// <param name="tokensPerStep">D_t for each recorded update, in order.</param>
    /// <exception cref="ArgumentException">The length differs from <see cref="CompletedSteps"/>, a count is negative, or all are zero.</exception>
    public double AverageParameterCountOverTokens(ReadOnlySpan<long> tokensPerStep)
    {
        if (tokensPerStep.Length != nonZeroCounts.Count)
            throw new ArgumentException($"Got {tokensPerStep.Length} token counts for {nonZeroCounts.Count} recorded updates.", nameof(tokensPerStep));
        double weighted = 0, tokens = 0;
        for (var step = 0; step < tokensPerStep.Length; step++)
        {
            if (tokensPerStep[step] < 0) throw new ArgumentException($"Token count {tokensPerStep[step]} at update {step + 1} is negative.", nameof(tokensPerStep));
            weighted += (double)nonZeroCounts[step] * tokensPerStep[step];
            tokens += tokensPerStep[step];
        }

        if (tokens == 0) throw new ArgumentException("No tokens were given.", nameof(tokensPerStep));
        return weighted / tokens;
    }

    /// <summary>Per-parameter sparsity of the current mask.</summary>
    public IReadOnlyList<LayerSparsity> Report() => Mask.Report();

    /// <summary>Writes the pruner's state for a checkpoint: step count, non-zero history, events and mask (not the schedule or criterion, which come from the options).</summary>
    public void Save(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(nonZeroCounts.Count);
        foreach (var count in nonZeroCounts) writer.Write(count);
        writer.Write(events.Count);
        foreach (var pruningEvent in events) pruningEvent.Write(writer);
        Mask.Write(writer);
    }

    /// <summary>Writes the state to <paramref name="stream"/> (left open).</summary>
    public void Save(Stream stream)
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        Save(writer);
    }

    /// <summary>Restores a state written by <see cref="Save(BinaryWriter)"/>; the mask is overwritten in place.</summary>
    /// <exception cref="InvalidDataException">The data is not a pruner state, or its mask does not fit.</exception>
    public void Load(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        try
        {
            if (reader.ReadString() != Magic) throw new InvalidDataException("The data is not a Pipelines pruner state.");
            var version = reader.ReadInt32();
            if (version != FormatVersion) throw new InvalidDataException($"The pruner state has format version {version}; this library reads version {FormatVersion}.");
            var stepCount = reader.ReadInt32();
            if (stepCount < 0) throw new InvalidDataException($"The pruner state claims {stepCount} steps.");
            var counts = new List<long>(stepCount);
            for (var step = 0; step < stepCount; step++) counts.Add(reader.ReadInt64());
            var eventCount = reader.ReadInt32();
            if (eventCount < 0) throw new InvalidDataException($"The pruner state claims {eventCount} pruning events.");
            var loadedEvents = new List<PruningEvent>(eventCount);
            for (var index = 0; index < eventCount; index++) loadedEvents.Add(PruningEvent.Read(reader));
            Mask.ReadInto(reader);
            nonZeroCounts.Clear();
            nonZeroCounts.AddRange(counts);
            events.Clear();
            events.AddRange(loadedEvents);
        }
        catch (EndOfStreamException exception)
        {
            throw new InvalidDataException("The pruner state is truncated.", exception);
        }
    }

    /// <summary>Restores the state from <paramref name="stream"/> (left open).</summary>
    public void Load(Stream stream)
    {
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        Load(reader);
    }
}
