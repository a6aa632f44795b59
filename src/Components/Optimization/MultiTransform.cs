using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>A named group of parameters and the transform (usually a <see cref="Chain"/>) that updates it.</summary>
/// <param name="Name">The group's name, used in messages and reports (e.g. <c>frozen</c>, <c>decayed</c>, <c>no-decay</c>).</param>
/// <param name="Selects">Whether a parameter belongs to this group.</param>
/// <param name="Transform">The group's transform.</param>
public sealed record ParameterGroup(string Name, Func<ParameterSlice, bool> Selects, IGradientTransform Transform);

/// <summary>Splits the parameters into groups, each updated by its own transform; every parameter is in exactly one group.</summary>
/// <remarks>
/// As optax's <c>multi_transform</c>. <see cref="Init"/> checks the partition against the arena and throws if a
/// parameter is in no group or in several, naming it. Each group's transform sees only its group's slices.
/// </remarks>
public sealed class MultiTransform : IGradientTransform
{
    private readonly ParameterGroup[] groups;

    /// <summary>Creates the transform from its groups.</summary>
    /// <exception cref="ArgumentException">No groups, a null or unnamed group, or two groups with the same name.</exception>
    public MultiTransform(params ParameterGroup[] groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Length == 0) throw new ArgumentException("A multi-transform needs at least one group.", nameof(groups));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var index = 0; index < groups.Length; index++)
        {
            var group = groups[index] ?? throw new ArgumentException($"Group {index} is null.", nameof(groups));
            if (string.IsNullOrWhiteSpace(group.Name)) throw new ArgumentException($"Group {index} has no name.", nameof(groups));
            if (group.Selects is null || group.Transform is null)
                throw new ArgumentException($"Group '{group.Name}' needs both a predicate and a transform.", nameof(groups));
            if (!names.Add(group.Name)) throw new ArgumentException($"Two groups are named '{group.Name}'.", nameof(groups));
        }

        this.groups = (ParameterGroup[])groups.Clone();
    }

    /// <summary>The groups, in order.</summary>
    public IReadOnlyList<ParameterGroup> Groups => groups;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A parameter of <paramref name="arena"/> is in no group or in several.</exception>
    public TransformState Init(ParameterArena arena)
    {
        ArgumentNullException.ThrowIfNull(arena);
        CheckPartition(arena.Parameters, nameof(arena));
        return new MultiTransformState(groups.Select(group => group.Name).ToArray(), groups.Select(group => group.Transform.Init(arena)).ToArray());
    }

    /// <summary>Throws unless every parameter is in exactly one group, naming the first that is not (shared with the device optimizer).</summary>
    /// <exception cref="ArgumentException">A parameter is in no group or in several.</exception>
    internal void CheckPartition(IReadOnlyList<ParameterSlice> parameters, string parameterName)
    {
        foreach (var parameter in parameters)
        {
            var owners = groups.Where(group => group.Selects(parameter)).Select(group => $"'{group.Name}'").ToArray();
            if (owners.Length == 0)
                throw new ArgumentException($"Parameter '{parameter.Name}' is in none of the groups {string.Join(", ", groups.Select(group => $"'{group.Name}'"))}.", parameterName);
            if (owners.Length > 1)
                throw new ArgumentException($"Parameter '{parameter.Name}' is in several groups: {string.Join(", ", owners)}.", parameterName);
        }
    }

    /// <inheritdoc />
    public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        var multiState = TransformGuard.StateAs<MultiTransformState>(state, nameof(MultiTransform));
        if (multiState.Children.Count != groups.Length)
            throw new ArgumentException($"The multi-transform has {groups.Length} groups but its state has {multiState.Children.Count}.", nameof(state));
        for (var index = 0; index < groups.Length; index++)
        {
            var members = multiState.Selections[index].Select(context.Parameters, groups[index].Selects);
            if (members.Count == 0) continue;
            groups[index].Transform.Update(updates, parameters, multiState.Children[index], context with { Parameters = members });
        }
    }
}

/// <summary>The states of a <see cref="MultiTransform"/>'s groups, in the groups' order.</summary>
public sealed class MultiTransformState : TransformState
{
    private readonly TransformState[] states;

    internal MultiTransformState(string[] groupNames, TransformState[] states)
    {
        GroupNames = groupNames;
        this.states = states;
        Selections = states.Select(_ => new SliceSelection()).ToArray();
    }

    /// <summary>The groups' names, in order.</summary>
    public IReadOnlyList<string> GroupNames { get; }

    /// <summary>The state of the group named <paramref name="groupName"/>.</summary>
    /// <exception cref="KeyNotFoundException">No group has that name.</exception>
    public TransformState this[string groupName]
    {
        get
        {
            for (var index = 0; index < GroupNames.Count; index++)
            {
                if (string.Equals(GroupNames[index], groupName, StringComparison.Ordinal)) return states[index];
            }

            throw new KeyNotFoundException($"No group is named '{groupName}'.");
        }
    }

    /// <inheritdoc />
    public override string Kind => nameof(MultiTransform);

    /// <inheritdoc />
    public override IReadOnlyList<TransformState> Children => states;

    internal SliceSelection[] Selections { get; }

    /// <inheritdoc />
    public override void Write(BinaryWriter writer)
    {
        WriteKind(writer);
        writer.Write(GroupNames.Count);
        foreach (var name in GroupNames) writer.Write(name);
        WriteChildren(writer);
    }

    /// <inheritdoc />
    public override void Read(BinaryReader reader)
    {
        ReadKind(reader);
        var count = reader.ReadInt32();
        if (count != GroupNames.Count)
            throw new InvalidDataException($"the checkpoint has {count} parameter groups but this optimizer has {GroupNames.Count} ({string.Join(", ", GroupNames)}).");
        var stored = new string[count];
        for (var index = 0; index < stored.Length; index++) stored[index] = reader.ReadString();
        if (!stored.SequenceEqual(GroupNames, StringComparer.Ordinal))
            throw new InvalidDataException($"the checkpoint's groups are ({string.Join(", ", stored)}) but this optimizer's are ({string.Join(", ", GroupNames)}).");
        ReadChildren(reader);
    }
}
