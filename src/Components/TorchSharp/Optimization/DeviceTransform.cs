using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Tensors;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Optimization;

/// <summary>A parameter the device optimizer trains: the module's tensor and the managed slice of the same name (for predicates).</summary>
internal sealed record DeviceParameter(int Index, Parameter Tensor, ParameterSlice Slice);

/// <summary>
/// The updates of one step, one tensor per parameter: the gradient at first (never written), then each transform's result.
/// </summary>
internal sealed class DeviceUpdates
{
    private readonly Tensor[] updates;
    private readonly bool[] owned;

    public DeviceUpdates(IReadOnlyList<DeviceParameter> parameters, long step)
    {
        Step = step;
        updates = new Tensor[parameters.Count];
        owned = new bool[parameters.Count];
        for (var index = 0; index < updates.Length; index++)
        {
            var parameter = parameters[index].Tensor;
            updates[index] = parameter.grad is { } gradient ? gradient : zeros_like(parameter);
            owned[index] = parameter.grad is null;
        }
    }

    /// <summary>The update about to be applied, counting from 1.</summary>
    public long Step { get; }

    /// <summary>The current update of parameter <paramref name="index"/>.</summary>
    public Tensor this[int index] => updates[index];

    /// <summary>
    /// The update of parameter <paramref name="index"/> as formula arithmetic: owned (overwritten in place) when this buffer
    /// alone holds it, never when it is still the parameter's gradient. Pass it only to a formula that reads it once.
    /// </summary>
    public TensorValue ValueOf(int index) => new(updates[index], owned[index]);

    /// <summary>
    /// Makes <paramref name="update"/> the update of parameter <paramref name="index"/>, freeing the one it replaces; call it
    /// inside a dispose scope opened for the one parameter, whose result it moves one scope out, into the step's.
    /// </summary>
    public void Replace(int index, Tensor update)
    {
        if (ReferenceEquals(update, updates[index])) return;
        if (owned[index]) updates[index].Dispose();
        updates[index] = update.MoveToOuterDisposeScope();
        owned[index] = true;
    }
}

/// <summary>
/// One managed <see cref="IGradientTransform"/> compiled for the device: the parameters it acts on (its context, fixed
/// at construction since predicates select by name and shape), its state tensors on the parameters' device, and its
/// children. The formulas are the managed transforms' own (<see cref="TensorValue"/>); this class only walks and stores.
/// </summary>
internal abstract class DeviceTransform(string kind, IReadOnlyList<DeviceParameter> members) : IDisposable
{
    /// <summary>The managed transform's name, written to checkpoints and checked on reading.</summary>
    public string Kind { get; } = kind;

    /// <summary>The parameters this transform acts on, in the module's order.</summary>
    public IReadOnlyList<DeviceParameter> Members { get; } = members;

    /// <summary>Nested transforms, in order.</summary>
    public virtual IReadOnlyList<DeviceTransform> Children => [];

    /// <summary>The learning-rate schedule when this transform scales by one (null otherwise).</summary>
    public virtual ISchedule? LearningRate => null;

    /// <summary>Rewrites the updates of <see cref="Members"/>.</summary>
    public abstract void Update(DeviceUpdates updates);

    /// <summary>The state tensors shaped like parameter <paramref name="index"/> (none by default).</summary>
    public virtual IEnumerable<Tensor> StateOf(int index) => [];

    /// <summary>This transform and its descendants, depth first, parents before children.</summary>
    public IEnumerable<DeviceTransform> SelfAndDescendants() => Children.SelectMany(child => child.SelfAndDescendants()).Prepend(this);

    /// <summary>Writes the kind, this transform's own state, then the children.</summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(Kind);
        WriteOwn(writer);
        writer.Write(Children.Count);
        foreach (var child in Children) child.Write(writer);
    }

    /// <summary>Reads a state written by <see cref="Write"/>, checking everything, and queues the assignments in <paramref name="commits"/>.</summary>
    /// <exception cref="InvalidDataException">The stored kind, a child count or a tensor's shape differs; the message says where.</exception>
    public void Read(BinaryReader reader, List<Action> commits)
    {
        var stored = reader.ReadString();
        if (!string.Equals(stored, Kind, StringComparison.Ordinal))
            throw new InvalidDataException($"the checkpoint holds a '{stored}' state where this optimizer has '{Kind}'.");
        ReadOwn(reader, commits);
        var count = reader.ReadInt32();
        if (count != Children.Count)
            throw new InvalidDataException($"'{Kind}' has {count} nested states in the checkpoint but {Children.Count} in this optimizer.");
        for (var index = 0; index < count; index++)
        {
            try
            {
                Children[index].Read(reader, commits);
            }
            catch (InvalidDataException error)
            {
                throw new InvalidDataException($"{Kind}[{index}] > {error.Message}", error);
            }
        }
    }

    /// <summary>Releases the state tensors of this transform and its children.</summary>
    public virtual void Dispose()
    {
        foreach (var child in Children) child.Dispose();
    }

    /// <summary>Writes this transform's own scalars and tensors (nothing by default).</summary>
    protected virtual void WriteOwn(BinaryWriter writer)
    {
    }

    /// <summary>Reads what <see cref="WriteOwn"/> wrote; tensor assignments go to <paramref name="commits"/>.</summary>
    protected virtual void ReadOwn(BinaryReader reader, List<Action> commits)
    {
    }
}

/// <summary><see cref="Chain"/>: the children one after the other.</summary>
internal sealed class DeviceChain(string kind, IReadOnlyList<DeviceParameter> members, DeviceTransform[] children) : DeviceTransform(kind, members)
{
    public override IReadOnlyList<DeviceTransform> Children => children;

    public override void Update(DeviceUpdates updates)
    {
        foreach (var child in children) child.Update(updates);
    }
}

/// <summary><see cref="SetToZero"/> (and so <see cref="Freeze"/>): <c>u = 0</c>.</summary>
internal sealed class DeviceSetToZero(IReadOnlyList<DeviceParameter> members) : DeviceTransform(nameof(SetToZero), members)
{
    public override void Update(DeviceUpdates updates)
    {
        foreach (var member in Members)
        {
            using var scope = NewDisposeScope(); // Replace moves the result one scope out, into the step's
            updates.Replace(member.Index, zeros_like(member.Tensor));
        }
    }
}

/// <summary>
/// A transform that keeps state tensors shaped like each member (moments, averages); they are made zero and live on the
/// parameters' device, outside any caller's dispose scope.
/// </summary>
internal abstract class StatefulDeviceTransform : DeviceTransform
{
    private readonly Dictionary<int, Tensor[]> buffers = [];

    /// <summary>Writes a formula's new state into <paramref name="state"/>, unless the formula already updated it in place (passed owned and read once).</summary>
    public static void Store(Tensor state, TensorValue result)
    {
        if (!ReferenceEquals(state, result.Value)) state.copy_(result.Value);
    }

    protected StatefulDeviceTransform(string kind, IReadOnlyList<DeviceParameter> members, int bufferCount) : base(kind, members)
    {
        using var noGradient = no_grad();
        foreach (var member in members)
            buffers[member.Index] = Enumerable.Range(0, bufferCount).Select(_ => zeros_like(member.Tensor).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>The state tensors of a member.</summary>
    protected Tensor[] BuffersOf(DeviceParameter member) => buffers[member.Index];

    public override IEnumerable<Tensor> StateOf(int index) => buffers.TryGetValue(index, out var found) ? found : [];

    public override void Dispose()
    {
        foreach (var tensor in buffers.Values.SelectMany(tensors => tensors)) tensor.Dispose();
        base.Dispose();
    }

    protected override void WriteOwn(BinaryWriter writer)
    {
        WriteScalars(writer);
        writer.Write(Members.Count);
        foreach (var member in Members)
        {
            writer.Write(member.Slice.Name);
            foreach (var tensor in buffers[member.Index]) TorchStateIO.Write(writer, tensor);
        }
    }

    protected override void ReadOwn(BinaryReader reader, List<Action> commits)
    {
        ReadScalars(reader, commits);
        var count = reader.ReadInt32();
        if (count != Members.Count) throw new InvalidDataException($"'{Kind}' keeps state for {count} parameters in the checkpoint but {Members.Count} here.");
        foreach (var member in Members)
        {
            var name = reader.ReadString();
            if (name != member.Slice.Name) throw new InvalidDataException($"'{Kind}' holds the state of '{name}' in the checkpoint where this optimizer has '{member.Slice.Name}'.");
            foreach (var tensor in buffers[member.Index])
            {
                var values = TorchStateIO.ReadValues(reader, tensor);
                commits.Add(() => TorchParameters.Assign(tensor, values));
            }
        }
    }

    /// <summary>Writes the transform's scalars (a last rate); nothing by default.</summary>
    protected virtual void WriteScalars(BinaryWriter writer)
    {
    }

    /// <summary>Reads what <see cref="WriteScalars"/> wrote.</summary>
    protected virtual void ReadScalars(BinaryReader reader, List<Action> commits)
    {
    }
}
