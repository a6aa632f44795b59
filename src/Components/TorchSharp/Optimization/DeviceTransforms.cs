using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Sparsity;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Optimization;

/// <summary><see cref="MultiTransform"/>: each group's transform over its members; checkpoints carry the group names.</summary>
internal sealed class DeviceGroups(IReadOnlyList<DeviceParameter> members, string[] names, DeviceTransform[] children) : DeviceTransform(nameof(MultiTransform), members)
{
    public override IReadOnlyList<DeviceTransform> Children => children;

    public override void Update(DeviceUpdates updates)
    {
        foreach (var child in children) child.Update(updates);
    }

    protected override void WriteOwn(BinaryWriter writer)
    {
        writer.Write(names.Length);
        foreach (var name in names) writer.Write(name);
    }

    protected override void ReadOwn(BinaryReader reader, List<Action> commits)
    {
        var stored = new string[reader.ReadInt32()];
        for (var index = 0; index < stored.Length; index++) stored[index] = reader.ReadString();
        if (!stored.SequenceEqual(names, StringComparer.Ordinal))
            throw new InvalidDataException($"the checkpoint's groups are ({string.Join(", ", stored)}) but this optimizer's are ({string.Join(", ", names)}).");
    }
}

/// <summary><see cref="ClipByGlobalNorm"/>: the norm is reduced on the device and read back as one scalar; the factor and the formula are the managed transform's.</summary>
internal sealed class DeviceClipByGlobalNorm(ClipByGlobalNorm transform, IReadOnlyList<DeviceParameter> members) : DeviceTransform(nameof(ClipByGlobalNorm), members)
{
    /// <summary>The global norm of the updates before clipping at the last step (NaN before the first).</summary>
    public double LastNorm { get; private set; } = double.NaN;

    /// <summary>The factor the updates were multiplied by at the last step (1 when not clipped).</summary>
    public double LastScale { get; private set; } = 1;

    public override void Update(DeviceUpdates updates)
    {
        if (Members.Count == 0) return;
        // Squares summed per tensor in float and across tensors in double, as the managed transform does.
        using (NewDisposeScope())
        {
            var squares = stack(Members.Select(member => updates[member.Index].square().sum()).ToArray());
            LastNorm = Math.Sqrt(squares.to_type(ScalarType.Float64).sum().item<double>());
        }

        LastScale = 1;
        if (transform.ScaleFor(LastNorm) is not { } scale) return;
        LastScale = scale;
        foreach (var member in Members)
        {
            using var scope = NewDisposeScope();
            updates.Replace(member.Index, ClipByGlobalNorm.Formula(updates.ValueOf(member.Index), scale).Value);
        }
    }

    protected override void WriteOwn(BinaryWriter writer)
    {
        writer.Write(LastNorm);
        writer.Write(LastScale);
    }

    protected override void ReadOwn(BinaryReader reader, List<Action> commits)
    {
        var (norm, scale) = (reader.ReadDouble(), reader.ReadDouble());
        commits.Add(() => (LastNorm, LastScale) = (norm, scale));
    }
}

/// <summary><see cref="ScaleByAdam"/>: first and second moments per member.</summary>
internal sealed class DeviceScaleByAdam(ScaleByAdam transform, IReadOnlyList<DeviceParameter> members) : StatefulDeviceTransform(nameof(ScaleByAdam), members, 2)
{
    public override void Update(DeviceUpdates updates)
    {
        var coefficients = transform.CoefficientsAt(updates.Step);
        foreach (var member in Members)
        {
            using var scope = NewDisposeScope();
            var (first, second) = (BuffersOf(member)[0], BuffersOf(member)[1]);
            var result = ScaleByAdam.Formula(new TensorValue(updates[member.Index]) /* read twice: not overwritten */, new TensorValue(first, owned: true), new TensorValue(second, owned: true), coefficients);
            // The moments are read once, so the formula updates them in place and returns them; nothing to copy back.
            StatefulDeviceTransform.Store(first, result.First);
            StatefulDeviceTransform.Store(second, result.Second);
            updates.Replace(member.Index, result.Update.Value);
        }
    }
}

/// <summary><see cref="ScaleByMomentum"/>: the moving average of the updates per member.</summary>
internal sealed class DeviceScaleByMomentum(ScaleByMomentum transform, IReadOnlyList<DeviceParameter> members) : StatefulDeviceTransform(nameof(ScaleByMomentum), members, 1)
{
    public override void Update(DeviceUpdates updates)
    {
        var (decay, oneMinusDecay) = ((float)transform.Beta1, (float)(1 - transform.Beta1));
        foreach (var member in Members)
        {
            using var scope = NewDisposeScope();
            var momentum = BuffersOf(member)[0];
            var average = ScaleByMomentum.Formula(updates.ValueOf(member.Index), new TensorValue(momentum), decay, oneMinusDecay).Value;
            momentum.copy_(average);
            updates.Replace(member.Index, average);
        }
    }
}

/// <summary><see cref="TraceMomentum"/>: the heavy-ball trace per member (Nesterov as the transform says).</summary>
internal sealed class DeviceTraceMomentum(TraceMomentum transform, IReadOnlyList<DeviceParameter> members) : StatefulDeviceTransform(nameof(TraceMomentum), members, 1)
{
    public override void Update(DeviceUpdates updates)
    {
        var decay = (float)transform.Decay;
        foreach (var member in Members)
        {
            using var scope = NewDisposeScope();
            var trace = BuffersOf(member)[0];
            var result = TraceMomentum.Formula(new TensorValue(updates[member.Index]), new TensorValue(trace), decay, transform.Nesterov);
            trace.copy_(result.Trace.Value);
            updates.Replace(member.Index, result.Update.Value);
        }
    }
}

/// <summary><see cref="ScaleBySign"/>: <c>u = sign(u)</c>.</summary>
internal sealed class DeviceScaleBySign(IReadOnlyList<DeviceParameter> members) : DeviceTransform(nameof(ScaleBySign), members)
{
    public override void Update(DeviceUpdates updates)
    {
        foreach (var member in Members)
        {
            using var scope = NewDisposeScope();
            updates.Replace(member.Index, ScaleBySign.Formula(updates.ValueOf(member.Index)).Value);
        }
    }
}

/// <summary><see cref="AddDecayedWeights"/>: <c>u = u + wd*theta</c>.</summary>
internal sealed class DeviceAddDecayedWeights(AddDecayedWeights transform, IReadOnlyList<DeviceParameter> members) : DeviceTransform(nameof(AddDecayedWeights), members)
{
    public override void Update(DeviceUpdates updates)
    {
        if (transform.WeightDecay == 0) return;
        var weightDecay = (float)transform.WeightDecay;
        foreach (var member in Members)
        {
            using var scope = NewDisposeScope();
            updates.Replace(member.Index, AddDecayedWeights.Formula(updates.ValueOf(member.Index), new TensorValue(member.Tensor), weightDecay).Value);
        }
    }
}

/// <summary><see cref="ScaleByLearningRate"/>: <c>u = u * (-lr)</c>, the rate from the transform's schedule.</summary>
internal sealed class DeviceScaleByLearningRate(ScaleByLearningRate transform, IReadOnlyList<DeviceParameter> members) : DeviceTransform(nameof(ScaleByLearningRate), members)
{
    /// <summary>The rate used by the last update (0 before the first).</summary>
    public double LastLearningRate { get; private set; }

    public override ISchedule LearningRate => transform.LearningRate;

    public override void Update(DeviceUpdates updates)
    {
        var rate = TransformGuard.LearningRateAt(transform.LearningRate, updates.Step);
        LastLearningRate = rate;
        var factor = (float)-rate;
        foreach (var member in Members)
        {
            using var scope = NewDisposeScope();
            updates.Replace(member.Index, ScaleByLearningRate.Formula(updates.ValueOf(member.Index), factor).Value);
        }
    }

    protected override void WriteOwn(BinaryWriter writer) => writer.Write(LastLearningRate);

    protected override void ReadOwn(BinaryReader reader, List<Action> commits)
    {
        var rate = reader.ReadDouble();
        commits.Add(() => LastLearningRate = rate);
    }
}

/// <summary><see cref="ScaleByFocus"/>: momentum and parameter average per member; the final update, learning rate included.</summary>
internal sealed class DeviceScaleByFocus(ScaleByFocus transform, IReadOnlyList<DeviceParameter> members) : StatefulDeviceTransform(nameof(ScaleByFocus), members, 2)
{
    /// <summary>The rate used by the last update (0 before the first).</summary>
    public double LastLearningRate { get; private set; }

    public override ISchedule LearningRate => transform.LearningRate;

    public override void Update(DeviceUpdates updates)
    {
        var rate = TransformGuard.LearningRateAt(transform.LearningRate, updates.Step);
        LastLearningRate = rate;
        var coefficients = transform.CoefficientsAt(updates.Step, rate);
        foreach (var member in Members)
        {
            using var scope = NewDisposeScope();
            var (momentum, average) = (BuffersOf(member)[0], BuffersOf(member)[1]);
            var result = ScaleByFocus.Formula(
                new TensorValue(updates[member.Index]), new TensorValue(member.Tensor), new TensorValue(momentum, owned: true), new TensorValue(average, owned: true),
                coefficients, transform.WeightDecayOf(member.Slice));
            StatefulDeviceTransform.Store(momentum, result.Momentum); // read once: updated in place
            StatefulDeviceTransform.Store(average, result.Average);
            updates.Replace(member.Index, result.Update.Value);
        }
    }

    protected override void WriteScalars(BinaryWriter writer) => writer.Write(LastLearningRate);

    protected override void ReadScalars(BinaryReader reader, List<Action> commits)
    {
        var rate = reader.ReadDouble();
        commits.Add(() => LastLearningRate = rate);
    }
}

/// <summary>
/// <see cref="ApplyMaskTransform"/>: the pruned entries of each prunable member's update become +0 (a select, as the
/// managed mask does, so a NaN there becomes 0 too). The mask is copied to the device as one boolean tensor per prunable
/// member and copied again whenever <see cref="PruningMask.Version"/> moves.
/// </summary>
internal sealed class DeviceApplyMask : DeviceTransform
{
    private readonly PruningMask mask;
    private readonly DeviceParameter[] prunable;
    private readonly Dictionary<int, Tensor> pruned = [];
    private long copiedVersion = -1;

    /// <exception cref="ArgumentException">A member's slice is not of the arena the mask was made for.</exception>
    public DeviceApplyMask(ApplyMaskTransform transform, IReadOnlyList<DeviceParameter> members, string parameterName) : base(nameof(ApplyMaskTransform), members)
    {
        mask = transform.Mask;
        try
        {
            foreach (var member in members) mask.PrunedCountOf(member.Slice); // throws for a slice of another arena
        }
        catch (ArgumentException error)
        {
            throw new ArgumentException($"ApplyMaskTransform's mask was made for another arena than the layout: {error.Message} Pass the arena the mask was made for as the layout.", parameterName, error);
        }

        prunable = members.Where(member => mask.IsPrunable(member.Slice)).ToArray();
    }

    public override void Update(DeviceUpdates updates)
    {
        if (copiedVersion != mask.Version) CopyMask();
        foreach (var member in prunable)
        {
            if (!pruned.TryGetValue(member.Index, out var zero)) continue;
            using var scope = NewDisposeScope();
            updates.Replace(member.Index, updates[member.Index].masked_fill(zero, 0f));
        }
    }

    public override void Dispose()
    {
        foreach (var tensor in pruned.Values) tensor.Dispose();
        pruned.Clear();
        base.Dispose();
    }

    private void CopyMask()
    {
        foreach (var tensor in pruned.Values) tensor.Dispose();
        pruned.Clear();
        foreach (var member in prunable)
        {
            using var kept = TorchPruningMasks.KeptOf(mask, member.Slice, member.Tensor);
            if (kept is null) continue;
            using var scope = NewDisposeScope();
            pruned[member.Index] = kept.eq(0f).DetachFromDisposeScope();
        }

        copiedVersion = mask.Version;
    }
}
