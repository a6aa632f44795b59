using Pipelines.Components.Serialization;
using Pipelines.Components.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp;

/// <summary>Moves a module's parameters to and from the managed engine's arena and safetensors files, by PyTorch name.</summary>
/// <remarks>
/// A model crosses the backend boundary as named float32 tensors: the module's <c>named_parameters()</c> on one side,
/// the arena's slices (or a safetensors file's tensors) of the same names and shapes on the other. Every transfer
/// checks the whole match first and changes nothing if a name is missing, extra, or of another shape.
/// </remarks>
public static class TorchParameters
{
    /// <summary>Copies every parameter's values from <paramref name="arena"/> into the module (on its device).</summary>
    /// <exception cref="ArgumentException">The names or shapes differ; the message lists every difference.</exception>
    public static void LoadFrom(this nn.Module module, ParameterArena arena)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(arena);
        var pairs = Match(module, arena, nameof(arena));
        using var _ = no_grad();
        foreach (var (parameter, slice) in pairs) Assign(parameter, arena.ValuesOf(slice).ToArray());
    }

    /// <summary>Copies every parameter's values from the module into <paramref name="arena"/>.</summary>
    /// <exception cref="ArgumentException">The names or shapes differ; the message lists every difference.</exception>
    public static void StoreValuesTo(this nn.Module module, ParameterArena arena)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(arena);
        foreach (var (parameter, slice) in Match(module, arena, nameof(arena))) Read(parameter).CopyTo(arena.ValuesOf(slice));
    }

    /// <summary>Copies every parameter's gradient from the module into <paramref name="arena"/>'s gradients (0 where a parameter has none).</summary>
    /// <exception cref="ArgumentException">The names or shapes differ; the message lists every difference.</exception>
    public static void StoreGradientsTo(this nn.Module module, ParameterArena arena)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(arena);
        foreach (var (parameter, slice) in Match(module, arena, nameof(arena)))
        {
            var gradient = parameter.grad;
            if (gradient is null) arena.GradientsOf(slice).Clear();
            else Read(gradient).CopyTo(arena.GradientsOf(slice));
        }
    }

    /// <summary>The module's parameters as F32 safetensors, in <c>named_parameters()</c> order.</summary>
    public static SafeTensorFile ToSafeTensors(this nn.Module module, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        var tensors = module.named_parameters().Select(pair => SafeTensor.Create(pair.name, pair.parameter.shape, Read(pair.parameter))).ToArray();
        return new SafeTensorFile(tensors, metadata);
    }

    /// <summary>Writes the module's parameters to a safetensors file that the engine's <c>LoadSafeTensors</c> (and PyTorch) read.</summary>
    public static void SaveSafeTensors(this nn.Module module, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensors.Write(path, module.ToSafeTensors(metadata));

    /// <summary>Copies the tensors of <paramref name="file"/> into the parameters of the same names; returns its metadata.</summary>
    /// <exception cref="ArgumentException">
    /// A parameter has no tensor, a tensor no parameter, or a tensor is not F32 of the parameter's shape; the message
    /// lists every problem and the module is left unchanged.
    /// </exception>
    public static IReadOnlyDictionary<string, string> LoadFrom(this nn.Module module, SafeTensorFile file)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(file);
        var parameters = module.named_parameters().ToArray();
        var problems = new List<string>();
        foreach (var (name, parameter) in parameters)
        {
            if (!file.Contains(name)) problems.Add($"missing tensor '{name}' [{Shape(parameter.shape)}]");
            else if (file[name].DataType != SafeTensorDataType.Float32 || !file[name].Shape.SequenceEqual(parameter.shape))
                problems.Add($"tensor '{name}' is {file[name].DataType.FormatName()} [{Shape(file[name].Shape)}], expected F32 [{Shape(parameter.shape)}]");
        }

        var names = parameters.Select(pair => pair.name).ToHashSet(StringComparer.Ordinal);
        problems.AddRange(file.Tensors.Where(tensor => !names.Contains(tensor.Name)).Select(tensor => $"extra tensor '{tensor.Name}' matches no parameter"));
        if (problems.Count > 0)
            throw new ArgumentException($"The safetensors file does not match the module: {string.Join("; ", problems)}.", nameof(file));

        using var _ = no_grad();
        foreach (var (name, parameter) in parameters) Assign(parameter, file[name].ToSingleArray());
        return file.Metadata;
    }

    /// <summary>Reads a safetensors file into the module; see <see cref="LoadFrom(nn.Module, SafeTensorFile)"/>.</summary>
    public static IReadOnlyDictionary<string, string> LoadSafeTensors(this nn.Module module, string path) =>
        module.LoadFrom(SafeTensors.Read(path));

    /// <summary>A tensor's values as a float array on the CPU (any device and dtype; converted to float32).</summary>
    public static float[] ToSingleArray(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return Read(tensor);
    }

    private static float[] Read(Tensor tensor)
    {
        using var host = tensor.detach().to_type(ScalarType.Float32).cpu().contiguous();
        return host.data<float>().ToArray();
    }

    /// <summary>Copies <paramref name="values"/> (float32, laid out like <paramref name="target"/>) into a parameter or state tensor, on its device.</summary>
    internal static void Assign(Tensor target, float[] values)
    {
        using var _ = no_grad();
        using var source = tensor(values, target.shape, dtype: ScalarType.Float32, device: target.device);
        target.copy_(source);
    }

    /// <summary>Pairs each module parameter with the arena slice of its name; throws listing every missing, extra or reshaped one.</summary>
    internal static List<(Parameter Parameter, ParameterSlice Slice)> Match(nn.Module module, ParameterArena arena, string parameterName)
    {
        var pairs = new List<(Parameter, ParameterSlice)>();
        var problems = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, parameter) in module.named_parameters())
        {
            names.Add(name);
            if (!arena.Contains(name))
            {
                problems.Add($"the arena has no parameter '{name}' [{Shape(parameter.shape)}]");
                continue;
            }

            var slice = arena[name];
            if (!slice.Shape.Select(dimension => (long)dimension).SequenceEqual(parameter.shape))
                problems.Add($"'{name}' is [{Shape(parameter.shape)}] in the module and [{Shape(slice.Shape)}] in the arena");
            else pairs.Add((parameter, slice));
        }

        problems.AddRange(arena.Parameters.Where(slice => !names.Contains(slice.Name)).Select(slice => $"the module has no parameter '{slice.Name}'"));
        if (problems.Count > 0)
            throw new ArgumentException($"The module's parameters do not match the arena's: {string.Join("; ", problems)}.", parameterName);
        return pairs;
    }

    private static string Shape<T>(IEnumerable<T> shape) => string.Join(", ", shape);
}
