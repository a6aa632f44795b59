namespace Pipelines.Components.Serialization;

/// <summary>The content of a safetensors file: its tensors (in data order) and its <c>__metadata__</c> strings.</summary>
public sealed class SafeTensorFile
{
    private readonly Dictionary<string, SafeTensor> byName;

    /// <summary>Collects tensors and metadata (names must be distinct; see <see cref="SafeTensors.Write(Stream, SafeTensorFile)"/>).</summary>
    /// <exception cref="ArgumentException">Two tensors share a name, or a name is <c>__metadata__</c>.</exception>
    public SafeTensorFile(IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Tensors = tensors.ToArray();
        byName = new Dictionary<string, SafeTensor>(StringComparer.Ordinal);
        foreach (var tensor in Tensors)
        {
            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
            if (tensor.Name == SafeTensors.MetadataKey) throw new ArgumentException($"A tensor may not be named '{SafeTensors.MetadataKey}'.", nameof(tensors));
            if (!byName.TryAdd(tensor.Name, tensor)) throw new ArgumentException($"Two tensors are named '{tensor.Name}'.", nameof(tensors));
        }

        Metadata = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal);
    }

    /// <summary>The tensors, in the order of their data.</summary>
    public IReadOnlyList<SafeTensor> Tensors { get; }

    /// <summary>The free-form string metadata (empty if the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor with this name.</summary>
    /// <exception cref="KeyNotFoundException">There is none.</exception>
    public SafeTensor this[string name] =>
        byName.TryGetValue(name, out var tensor) ? tensor : throw new KeyNotFoundException($"There is no tensor named '{name}'.");

    /// <summary>Whether a tensor has this name.</summary>
    public bool Contains(string name) => byName.ContainsKey(name);
}
