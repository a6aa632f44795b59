using Pipelines.Components.Compute;

namespace Pipelines.Components.Tensors;

/// <summary>
/// All of a model's parameters in one float32 buffer and their gradients in another, each parameter a
/// named, shaped <see cref="ParameterSlice"/>.
/// </summary>
/// <remarks>
/// Slices start on 16-float (64-byte) boundaries so that SIMD loops over one parameter start aligned.
/// The padding between slices is always zero in values and gradients. Backward passes
/// <em>accumulate</em> into <see cref="Gradients"/>, so a training step begins with
/// <see cref="ZeroGradients()"/>.
/// </remarks>
public sealed class ParameterArena
{
    /// <summary>Slices start on multiples of this many floats.</summary>
    public const int Alignment = 16;

    private readonly float[] values;
    private readonly float[] gradients;
    private readonly Dictionary<string, ParameterSlice> byName;

    internal ParameterArena(IReadOnlyList<ParameterSlice> parameters, int totalLength)
    {
        Parameters = parameters;
        values = new float[totalLength];
        gradients = new float[totalLength];
        byName = parameters.ToDictionary(parameter => parameter.Name, StringComparer.Ordinal);
        ParameterCount = parameters.Sum(parameter => (long)parameter.Length);
    }

    /// <summary>The parameters in the order they were added.</summary>
    public IReadOnlyList<ParameterSlice> Parameters { get; }

    /// <summary>Number of scalar parameters (excluding alignment padding).</summary>
    public long ParameterCount { get; }

    /// <summary>Length of the flat buffers, padding included.</summary>
    public int BufferLength => values.Length;

    /// <summary>All parameter values, laid out as <see cref="Parameters"/> say.</summary>
    public Span<float> Values => values;

    /// <summary>All gradients, laid out like <see cref="Values"/>.</summary>
    public Span<float> Gradients => gradients;

    /// <summary>The parameter with this name.</summary>
    /// <exception cref="KeyNotFoundException">No parameter has that name.</exception>
    public ParameterSlice this[string name] =>
        byName.TryGetValue(name, out var slice)
            ? slice
            : throw new KeyNotFoundException($"The arena has no parameter named '{name}'.");

    /// <summary>Whether a parameter of this name exists.</summary>
    public bool Contains(string name) => byName.ContainsKey(name);

    /// <summary>The values of one parameter.</summary>
    public Span<float> ValuesOf(ParameterSlice parameter) => values.AsSpan(parameter.Offset, parameter.Length);

    /// <summary>The gradients of one parameter.</summary>
    public Span<float> GradientsOf(ParameterSlice parameter) => gradients.AsSpan(parameter.Offset, parameter.Length);

    /// <summary>Sets every gradient to zero (backward passes accumulate).</summary>
    public void ZeroGradients() => Array.Clear(gradients);

    /// <summary>Sets every gradient to zero, in chunks over <paramref name="parallelism"/>'s threads (a large model's gradients are tens of megabytes).</summary>
    public void ZeroGradients(Parallelism parallelism) =>
        parallelism.For(gradients.Length, gradients, static (buffer, start, end) => Array.Clear(buffer, start, end - start), minimumChunk: 64 * 1024);
}
