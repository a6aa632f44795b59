using Pipelines.Components.Tensors;

namespace Pipelines.Components.Serialization;

/// <summary>Saves and loads a <see cref="ParameterArena"/>'s values as safetensors, one F32 tensor per parameter.</summary>
/// <remarks>
/// Tensor names are the parameters' names and shapes their shapes, so a PyTorch model with the same names can
/// <c>load_state_dict</c> the result. Only values are saved (no gradients, no alignment padding).
/// </remarks>
public static class ParameterArenaSafeTensors
{
    /// <summary>Writes every parameter's values, in arena order, with optional metadata.</summary>
    public static void SaveSafeTensors(this ParameterArena arena, Stream stream, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(arena);
        SafeTensors.Write(stream, ToFile(arena, metadata));
    }

    /// <summary>Writes every parameter's values to a file (replaced only once complete).</summary>
    public static void SaveSafeTensors(this ParameterArena arena, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(arena);
        SafeTensors.Write(path, ToFile(arena, metadata));
    }

    /// <summary>Reads a stream and copies each tensor into the parameter of the same name; returns the file's metadata.</summary>
    /// <exception cref="InvalidDataException">
    /// The stream is not valid safetensors, or its tensors do not match the arena: the message lists every
    /// parameter with no tensor, every tensor with no parameter, and every type or shape mismatch. The arena is
    /// left unchanged in that case.
    /// </exception>
    public static IReadOnlyDictionary<string, string> LoadSafeTensors(this ParameterArena arena, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(arena);
        return CopyInto(arena, SafeTensors.Read(stream));
    }

    /// <summary>Reads a file into the arena; see <see cref="LoadSafeTensors(ParameterArena, Stream)"/>.</summary>
    /// <exception cref="InvalidDataException">See <see cref="LoadSafeTensors(ParameterArena, Stream)"/>.</exception>
    public static IReadOnlyDictionary<string, string> LoadSafeTensors(this ParameterArena arena, string path)
    {
        ArgumentNullException.ThrowIfNull(arena);
        return CopyInto(arena, SafeTensors.Read(path));
    }

    private static SafeTensorFile ToFile(ParameterArena arena, IReadOnlyDictionary<string, string>? metadata)
    {
        var tensors = arena.Parameters.Select(parameter =>
            SafeTensor.Create(parameter.Name, parameter.Shape.Select(dimension => (long)dimension).ToArray(), arena.ValuesOf(parameter)));
        return new SafeTensorFile(tensors, metadata);
    }

    private static IReadOnlyDictionary<string, string> CopyInto(ParameterArena arena, SafeTensorFile file)
    {
        var problems = new List<string>();
        foreach (var parameter in arena.Parameters)
        {
            if (!file.Contains(parameter.Name))
            {
                problems.Add($"missing tensor '{parameter.Name}' [{string.Join(", ", parameter.Shape)}]");
                continue;
            }

            var tensor = file[parameter.Name];
            if (tensor.DataType != SafeTensorDataType.Float32)
                problems.Add($"tensor '{parameter.Name}' is {tensor.DataType.FormatName()}, expected F32");
            if (!tensor.Shape.SequenceEqual(parameter.Shape.Select(dimension => (long)dimension)))
                problems.Add($"tensor '{parameter.Name}' has shape [{string.Join(", ", tensor.Shape)}], expected [{string.Join(", ", parameter.Shape)}]");
        }

        foreach (var tensor in file.Tensors)
        {
            if (!arena.Contains(tensor.Name)) problems.Add($"extra tensor '{tensor.Name}' [{string.Join(", ", tensor.Shape)}] matches no parameter");
        }

        if (problems.Count > 0)
            throw new InvalidDataException($"The safetensors file does not match the arena: {string.Join("; ", problems)}.");

        foreach (var parameter in arena.Parameters) file[parameter.Name].CopyTo(arena.ValuesOf(parameter));
        return file.Metadata;
    }
}
