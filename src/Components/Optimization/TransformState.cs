using System.Runtime.InteropServices;

namespace Pipelines.Components.Optimization;

/// <summary>A transform's state: explicit, held by the caller, written to and read from checkpoints.</summary>
/// <remarks>
/// A checkpoint stores, per state, its <see cref="Kind"/>, its own buffers and scalars, then its children in
/// order. Reading checks the kind, the buffer lengths and the number of children, so a checkpoint of another
/// chain or another arena fails with an <see cref="InvalidDataException"/> that says where and what differs.
/// Hyperparameters (rates, betas) belong to the transform, not to the checkpoint: a run may resume with new
/// ones. States expose them as typed read-only properties for reports (see <see cref="Find{T}"/>).
/// </remarks>
public abstract class TransformState
{
    /// <summary>Name of the transform that made this state, written to checkpoints and checked on reading.</summary>
    public virtual string Kind => GetType().Name;

    /// <summary>States of nested transforms (for chains and masks), in a fixed order.</summary>
    public virtual IReadOnlyList<TransformState> Children => [];

    /// <summary>Writes this state (children included) to a checkpoint.</summary>
    public abstract void Write(BinaryWriter writer);

    /// <summary>Reads a state written by <see cref="Write"/> into this instance.</summary>
    /// <exception cref="InvalidDataException">The stored state does not fit this one.</exception>
    public abstract void Read(BinaryReader reader);

    /// <summary>This state and all nested states, depth first, parents before children.</summary>
    public IEnumerable<TransformState> SelfAndDescendants()
    {
        var pending = new Stack<TransformState>();
        pending.Push(this);
        while (pending.Count > 0)
        {
            var state = pending.Pop();
            yield return state;
            for (var index = state.Children.Count - 1; index >= 0; index--) pending.Push(state.Children[index]);
        }
    }

    /// <summary>The first state of type <typeparamref name="T"/> in <see cref="SelfAndDescendants"/>, or null.</summary>
    /// <example><c>optimizer.State.Find&lt;ClipByGlobalNormState&gt;()?.LastNorm</c></example>
    public T? Find<T>() where T : class
    {
        foreach (var state in SelfAndDescendants())
        {
            if (state is T found) return found;
        }

        return null;
    }

    /// <summary>Writes <see cref="Kind"/>; call first in <see cref="Write"/>.</summary>
    protected void WriteKind(BinaryWriter writer) => writer.Write(Kind);

    /// <summary>Reads a kind written by <see cref="WriteKind"/> and checks it is this state's <see cref="Kind"/>.</summary>
    /// <exception cref="InvalidDataException">The checkpoint holds another kind of state here.</exception>
    protected void ReadKind(BinaryReader reader)
    {
        var stored = reader.ReadString();
        if (!string.Equals(stored, Kind, StringComparison.Ordinal))
            throw new InvalidDataException($"the checkpoint holds a '{stored}' state where this optimizer has '{Kind}'.");
    }

    /// <summary>Writes <see cref="Children"/>: their count, then each one.</summary>
    protected void WriteChildren(BinaryWriter writer)
    {
        writer.Write(Children.Count);
        foreach (var child in Children) child.Write(writer);
    }

    /// <summary>Reads children written by <see cref="WriteChildren"/>; errors name the child's position.</summary>
    /// <exception cref="InvalidDataException">The count differs or a child does not fit.</exception>
    protected void ReadChildren(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        if (count != Children.Count)
            throw new InvalidDataException($"'{Kind}' has {count} nested states in the checkpoint but {Children.Count} in this optimizer.");
        for (var index = 0; index < count; index++)
        {
            try
            {
                Children[index].Read(reader);
            }
            catch (InvalidDataException error)
            {
                throw new InvalidDataException($"{Kind}[{index}] > {error.Message}", error);
            }
        }
    }

    /// <summary>Writes a float buffer: its length, then its values (little-endian).</summary>
    protected static void WriteBuffer(BinaryWriter writer, ReadOnlySpan<float> buffer)
    {
        writer.Write(buffer.Length);
        if (BitConverter.IsLittleEndian)
        {
            writer.Write(MemoryMarshal.AsBytes(buffer));
            return;
        }

        foreach (var value in buffer) writer.Write(value);
    }

    /// <summary>Reads a buffer written by <see cref="WriteBuffer"/> into <paramref name="buffer"/>.</summary>
    /// <exception cref="InvalidDataException">The stored length differs from <paramref name="buffer"/>'s, or the stream ends early.</exception>
    protected void ReadBuffer(BinaryReader reader, Span<float> buffer, string name)
    {
        var length = reader.ReadInt32();
        if (length != buffer.Length)
            throw new InvalidDataException($"'{Kind}' buffer '{name}' has {length} floats in the checkpoint but {buffer.Length} in this optimizer (arena of another shape?).");
        if (!BitConverter.IsLittleEndian)
        {
            for (var index = 0; index < buffer.Length; index++) buffer[index] = reader.ReadSingle();
            return;
        }

        var bytes = MemoryMarshal.AsBytes(buffer);
        var filled = 0;
        while (filled < bytes.Length)
        {
            var read = reader.Read(bytes[filled..]);
            if (read == 0) throw new InvalidDataException($"The checkpoint ends inside '{Kind}' buffer '{name}'.");
            filled += read;
        }
    }
}
