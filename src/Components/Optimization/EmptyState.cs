namespace Pipelines.Components.Optimization;

/// <summary>The state of a transform that keeps nothing between steps; it still records its kind in checkpoints.</summary>
/// <param name="kind">The transform's name, e.g. <c>ScaleBySign</c>.</param>
public sealed class EmptyState(string kind) : TransformState
{
    /// <inheritdoc />
    public override string Kind { get; } = kind;

    /// <inheritdoc />
    public override void Write(BinaryWriter writer) => WriteKind(writer);

    /// <inheritdoc />
    public override void Read(BinaryReader reader) => ReadKind(reader);
}
