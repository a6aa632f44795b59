using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Optimization;

/// <summary>Writes and reads device tensors of optimizer state exactly (shape, then float32 values), through the host.</summary>
internal static class TorchStateIO
{
    /// <summary>Writes the shape and the values of <paramref name="tensor"/> (float32).</summary>
    public static void Write(BinaryWriter writer, Tensor tensor)
    {
        writer.Write(tensor.shape.Length);
        foreach (var size in tensor.shape) writer.Write(size);
        var values = TorchParameters.ToSingleArray(tensor);
        writer.Write(values.Length);
        foreach (var value in values) writer.Write(value);
    }

    /// <summary>Reads the values of a tensor written by <see cref="Write"/>, checking they fit <paramref name="target"/>, without assigning them (the caller assigns once every stored tensor has been read and checked).</summary>
    /// <exception cref="InvalidDataException">The stored shape differs from the target's.</exception>
    public static float[] ReadValues(BinaryReader reader, Tensor target)
    {
        var rank = reader.ReadInt32();
        if (rank != target.shape.Length) throw new InvalidDataException($"A stored state tensor has rank {rank}; the parameter's has rank {target.shape.Length}.");
        var shape = new long[rank];
        for (var dimension = 0; dimension < rank; dimension++) shape[dimension] = reader.ReadInt64();
        if (!shape.SequenceEqual(target.shape))
            throw new InvalidDataException($"A stored state tensor has shape [{string.Join(", ", shape)}]; the parameter's is [{string.Join(", ", target.shape)}].");
        var count = reader.ReadInt32();
        if (count != target.numel()) throw new InvalidDataException($"A stored state tensor holds {count} values; its shape needs {target.numel()}.");
        var values = new float[count];
        for (var index = 0; index < count; index++) values[index] = reader.ReadSingle();
        return values;
    }
}
