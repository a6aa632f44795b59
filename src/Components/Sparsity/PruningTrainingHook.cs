using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Sparsity;

/// <summary>
/// Gradual magnitude pruning inside <see cref="LanguageModelTrainer"/>: a <see cref="ITrainingHook"/> around a
/// <see cref="GradualPruner"/> that keeps pruned weights, their gradients and their optimizer state exactly zero.
/// </summary>
/// <remarks>
/// <para>Sparse pre-training (arXiv 2501.12486), cubic schedule of Zhu &amp; Gupta (arXiv 1710.01878). Within step
/// s (0-based) of the trainer:</para>
/// <list type="number">
/// <item><see cref="AfterBackward"/>: masks the gradients, so no optimizer statistic of a pruned weight moves. At
/// s = 0, a schedule that prunes before training (start fraction 0) prunes here first, on the initial weights
/// (the first forward pass has already run on the dense weights).</item>
/// <item>the optimizer's update (optionally ending in <see cref="ApplyMask"/>; not needed for Adam or FOCUS, whose
/// update of a weight with zero gradient, zero state and zero value is exactly zero, but cheap insurance for
/// transforms that add terms of their own);</item>
/// <item><see cref="AfterUpdate"/>: <see cref="GradualPruner.OnStepCompleted"/> with s + 1 completed updates
/// masks the values, records the non-zero count N(s + 1) and, at a pruning step, extends the mask and zeroes the
/// newly pruned entries of every optimizer-state buffer (<see cref="IParameterBufferState"/>), so a momentum
/// built before pruning cannot resurrect the weight.</item>
/// </list>
/// <para>Nbar so far is <c>(1/t) sum_{u=1..t} N(u)</c> (<see cref="AverageParameterCount"/>). Between pruning
/// steps the mask is fixed, so the per-layer sparsity of every step follows from <see cref="LayerSnapshots"/>,
/// one taken after each pruning step that pruned. The checkpointed state is the pruner's (mask, non-zero history,
/// events) followed by the snapshots, so a resumed run continues bit-identically.</para>
/// <para>The optimizer must be a <see cref="GradientTransformOptimizer"/> (its <see cref="GradientTransformOptimizer.State"/>
/// is where the buffers are found); any other optimizer is refused at the first pruning step rather than left with
/// live state behind pruned weights. Example: <c>samples/SparsePretraining</c>.</para>
/// <para>On the TorchSharp backend the same hook runs through its device part, which multiplies gradients, weights and
/// optimizer state by mask tensors and copies the weights to the host only at pruning steps, where this hook's pruner
/// chooses the mask (<c>CompleteStepElsewhere</c>); so masks, N(t) and Nbar are the managed run's.</para>
/// </remarks>
public sealed class PruningTrainingHook : ITrainingHook
{
    private const string Magic = "PIPELINES-PRUNING-HOOK";
    private const int FormatVersion = 1;

    private readonly List<LayerSparsitySnapshot> snapshots = [];

    /// <summary>Wraps <paramref name="pruner"/> (its mask is shared, so <see cref="ApplyMask"/> sees every change).</summary>
    public PruningTrainingHook(GradualPruner pruner)
    {
        Pruner = pruner ?? throw new ArgumentNullException(nameof(pruner));
        ApplyMask = new ApplyMaskTransform(pruner.Mask);
    }

    /// <summary>Creates the pruner for <paramref name="arena"/> from <paramref name="options"/> (validated) and wraps it.</summary>
    /// <param name="arena">The model's parameters.</param>
    /// <param name="options">Schedule and criterion.</param>
    /// <param name="isPrunable">Which parameters may be pruned; null = linear weights only.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (the exception names it).</exception>
    public PruningTrainingHook(ParameterArena arena, PruningOptions options, Func<ParameterSlice, bool>? isPrunable = null)
        : this(new GradualPruner(arena, options, isPrunable))
    {
    }

    /// <summary>The pruner: mask, schedule, criterion, non-zero history and events.</summary>
    public GradualPruner Pruner { get; }

    /// <summary>The live mask (1 kept, 0 pruned), laid out like the arena.</summary>
    public PruningMask Mask => Pruner.Mask;

    /// <summary>A transform over <see cref="Mask"/> to end an optimizer chain with: <c>new Chain(inner, hook.ApplyMask)</c>.</summary>
    public ApplyMaskTransform ApplyMask { get; }

    /// <summary>Updates recorded so far.</summary>
    public long CompletedSteps => Pruner.CompletedSteps;

    /// <summary>Pruned fraction of all parameters now.</summary>
    public double OverallSparsity => Mask.OverallSparsity;

    /// <summary>Pruned fraction of the prunable parameters now.</summary>
    public double PrunableSparsity => Mask.PrunableSparsity;

    /// <summary>Unpruned parameters of the whole model now.</summary>
    public long NonZeroCount => Mask.NonZeroCount;

    /// <summary>Optimizer-state buffers zeroed at the latest pruning step (0 before any; 0 after one means the optimizer keeps no state).</summary>
    public int LastMaskedStateBuffers { get; private set; }

    /// <summary>Per-parameter sparsity after each pruning step that pruned, in order (the mask is fixed in between).</summary>
    public IReadOnlyList<LayerSparsitySnapshot> LayerSnapshots => snapshots;

    /// <summary>Per-parameter sparsity now.</summary>
    public IReadOnlyList<LayerSparsity> LayerSparsities() => Pruner.Report();

    /// <summary>Nbar so far: the mean over the recorded updates of the non-zero count in force during each.</summary>
    /// <exception cref="InvalidOperationException">No update has been recorded.</exception>
    public double AverageParameterCount() => Pruner.AverageParameterCount();

    /// <summary>The pruned fraction of the prunable parameters in force during update <paramref name="update"/> (1-based).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="update"/> is not a recorded update.</exception>
    public double PrunableSparsityDuring(long update)
    {
        if (update < 1 || update > CompletedSteps)
            throw new ArgumentOutOfRangeException(nameof(update), update, $"Must lie in [1, {CompletedSteps}] (the recorded updates).");
        var pruned = Mask.ParameterCount - Pruner.NonZeroCounts[(int)(update - 1)];
        return Mask.PrunableCount == 0 ? 0 : (double)pruned / Mask.PrunableCount;
    }

    /// <inheritdoc />
    public void AfterBackward(long step, ParameterArena arena)
    {
        ArgumentNullException.ThrowIfNull(arena);
        if (step == 0 && CompletedSteps == 0 && Pruner.OnStepCompleted(0, arena)) Snapshot(0);
        Pruner.MaskGradients(arena);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> + 1 is not the next update the pruner expects.</exception>
    /// <exception cref="ArgumentException">At a pruning step, <paramref name="optimizer"/> is not a <see cref="GradientTransformOptimizer"/>.</exception>
    public void AfterUpdate(long step, ParameterArena arena, IOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(arena);
        ArgumentNullException.ThrowIfNull(optimizer);
        if (Pruner.OnStepCompleted(step + 1, arena, _ => LastMaskedStateBuffers = MaskOptimizerState(optimizer))) Snapshot(step + 1);
    }

    /// <summary>
    /// <see cref="AfterUpdate"/> for weights and optimizer state that live elsewhere (a device), which already masked the
    /// values of this step: records N(<paramref name="step"/> + 1) and, only at a pruning step, asks
    /// <paramref name="valuesOnHost"/> for an arena holding the current values (the mask's layout) so the same criterion
    /// extends the mask; when it pruned, <paramref name="applyMask"/> masks the values and optimizer state there and
    /// returns how many state buffers (per parameter) it masked.
    /// </summary>
    /// <param name="step">The step just updated (0-based), or -1 before the first update (a schedule that prunes at step 0).</param>
    /// <param name="valuesOnHost">The current values; called at pruning steps only.</param>
    /// <param name="applyMask">Applies the extended <see cref="Mask"/> where the weights live; called only when weights were pruned.</param>
    /// <returns>Whether weights were newly pruned.</returns>
    internal bool CompleteStepElsewhere(long step, Func<ParameterArena> valuesOnHost, Func<int> applyMask)
    {
        if (!Pruner.RecordStep(step + 1) || Pruner.PruneAt(step + 1, valuesOnHost().Values) == 0) return false;
        var masked = applyMask();
        if (step >= 0) LastMaskedStateBuffers = masked;
        Snapshot(step + 1);
        return true;
    }

    /// <summary>Zeroes the pruned entries of every arena-shaped buffer of <paramref name="optimizer"/>'s state.</summary>
    /// <returns>How many buffers were masked.</returns>
    /// <exception cref="ArgumentException"><paramref name="optimizer"/> is not a <see cref="GradientTransformOptimizer"/>.</exception>
    public int MaskOptimizerState(IOptimizer optimizer)
    {
        if (optimizer is not GradientTransformOptimizer transformOptimizer)
            throw new ArgumentException($"Pruning must zero the optimizer state of pruned weights, and {optimizer?.GetType().Name ?? "null"} does not expose it; use a {nameof(GradientTransformOptimizer)}.", nameof(optimizer));
        return ApplyMask.MaskState(transformOptimizer.State);
    }

    /// <inheritdoc />
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        Pruner.Save(writer);
        writer.Write(LastMaskedStateBuffers);
        writer.Write(snapshots.Count);
        foreach (var snapshot in snapshots)
        {
            writer.Write(snapshot.Step);
            foreach (var layer in snapshot.Layers) writer.Write(layer.NonZeroCount);
        }
    }

    /// <inheritdoc />
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        try
        {
            if (reader.ReadString() != Magic) throw new InvalidDataException("The checkpoint holds no pruning-hook state here (another hook, or hooks in another order?).");
            var version = reader.ReadInt32();
            if (version != FormatVersion) throw new InvalidDataException($"The pruning-hook state has format version {version}; this library reads version {FormatVersion}.");
            Pruner.Load(reader);
            var maskedBuffers = reader.ReadInt32();
            var count = reader.ReadInt32();
            if (count < 0) throw new InvalidDataException($"The pruning-hook state claims {count} snapshots.");
            var template = Pruner.Report();
            var loaded = new List<LayerSparsitySnapshot>(count);
            for (var index = 0; index < count; index++)
            {
                var step = reader.ReadInt64();
                var layers = new LayerSparsity[template.Count];
                for (var layer = 0; layer < layers.Length; layer++)
                {
                    var nonZero = reader.ReadInt64();
                    if (nonZero < 0 || nonZero > template[layer].ParameterCount)
                        throw new InvalidDataException($"Snapshot {index} gives '{template[layer].Name}' {nonZero} non-zero entries of {template[layer].ParameterCount}.");
                    layers[layer] = template[layer] with { NonZeroCount = nonZero };
                }

                loaded.Add(new LayerSparsitySnapshot(step, layers));
            }

            LastMaskedStateBuffers = maskedBuffers;
            snapshots.Clear();
            snapshots.AddRange(loaded);
        }
        catch (EndOfStreamException exception)
        {
            throw new InvalidDataException("The pruning-hook state is truncated.", exception);
        }
    }

    private void Snapshot(long step) => snapshots.Add(new LayerSparsitySnapshot(step, Pruner.Report()));
}

/// <summary>Per-parameter sparsity right after a pruning step.</summary>
/// <param name="Step">Completed updates when the pruner acted (0 = before training).</param>
/// <param name="Layers">Every parameter of the arena, in arena order (non-prunable ones at sparsity 0).</param>
public sealed record LayerSparsitySnapshot(long Step, IReadOnlyList<LayerSparsity> Layers);
