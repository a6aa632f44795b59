namespace Pipelines.Components.Tensors;

/// <summary>Collects parameter declarations, then allocates one <see cref="ParameterArena"/> for them all.</summary>
public sealed class ParameterArenaBuilder
{
    private readonly List<ParameterSlice> parameters = [];
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private long nextOffset;

    /// <summary>Declares a parameter; returns its slice (valid in the arena that <see cref="Build"/> makes).</summary>
    /// <exception cref="ArgumentException">The name is empty or already used.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The shape is empty or has a dimension below one.</exception>
    public ParameterSlice Add(string name, ParameterRole role, params int[] shape)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!names.Add(name)) throw new ArgumentException($"A parameter named '{name}' was already added.", nameof(name));
        if (shape.Length == 0) throw new ArgumentOutOfRangeException(nameof(shape), "A parameter needs at least one dimension.");
        for (var axis = 0; axis < shape.Length; axis++)
        {
            if (shape[axis] < 1)
                throw new ArgumentOutOfRangeException(nameof(shape), shape[axis], $"Dimension {axis} of parameter '{name}' must be at least 1.");
        }

        var slice = new ParameterSlice(parameters.Count, name, role, (int[])shape.Clone(), checked((int)nextOffset));
        parameters.Add(slice);
        nextOffset = AlignUp(nextOffset + slice.Length);
        if (nextOffset > Array.MaxLength) throw new InvalidOperationException($"The parameters need {nextOffset} floats, more than one array can hold.");
        return slice;
    }

    /// <summary>Allocates the arena (values and gradients zeroed).</summary>
    public ParameterArena Build() => new(parameters.ToArray(), (int)nextOffset);

    private static long AlignUp(long offset) => (offset + ParameterArena.Alignment - 1) / ParameterArena.Alignment * ParameterArena.Alignment;
}
