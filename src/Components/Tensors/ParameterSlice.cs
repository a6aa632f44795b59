namespace Pipelines.Components.Tensors;

/// <summary>One named, shaped parameter: a contiguous slice of a <see cref="ParameterArena"/>.</summary>
/// <remarks>
/// Values, gradients and any per-parameter optimizer state use the same <see cref="Offset"/> and
/// <see cref="Length"/> in their own flat buffers, so every update is a loop over spans.
/// </remarks>
public sealed class ParameterSlice
{
    internal ParameterSlice(int index, string name, ParameterRole role, int[] shape, int offset)
    {
        Index = index;
        Name = name;
        Role = role;
        Shape = Array.AsReadOnly(shape);
        Offset = offset;
        var length = 1;
        foreach (var dimension in shape) length = checked(length * dimension);
        Length = length;
    }

    /// <summary>Position of this parameter in <see cref="ParameterArena.Parameters"/>.</summary>
    public int Index { get; }

    /// <summary>PyTorch-style dotted name, e.g. <c>blocks.0.attention.qkv.weight</c>.</summary>
    public string Name { get; }

    /// <summary>What the parameter is for.</summary>
    public ParameterRole Role { get; }

    /// <summary>The shape, outermost dimension first (row-major).</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>Where the slice starts in the arena's flat buffers.</summary>
    public int Offset { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>True for tensors of rank two or more (weight matrices and embedding tables).</summary>
    public bool IsMatrix => Shape.Count >= 2;

    /// <summary>The index range of this slice in a flat buffer laid out like the arena.</summary>
    public Range Range => new(Offset, Offset + Length);

    /// <inheritdoc />
    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}] ({Role})";
}
