using System.Text.Json.Nodes;
using Microsoft.ML;
using Pipelines.Components.Serialization;
using Pipelines.MachineLearning;

namespace Pipelines.Estimators.Tests.MachineLearning;

/// <summary>
/// Keeps a transformer's description and entries in memory and reads them back, optionally with one entry replaced:
/// the way to hand a loader a tampered part (a saved file's checksums would catch the tampering first).
/// </summary>
internal sealed class MemoryModelWriter : IModelWriter
{
    public JsonNode Description { get; private set; } = new JsonObject();

    public Dictionary<string, byte[]> Entries { get; } = [];

    public void WriteJson(JsonNode description) => Description = description;

    public Stream WriteStream(string name) => new EntryStream(bytes => Entries[name] = bytes);

    /// <summary>A reader of what was written, with entry <paramref name="name"/> replaced by <paramref name="replacement"/> when given.</summary>
    public IModelReader ToReader(string? name = null, byte[]? replacement = null)
    {
        var entries = new Dictionary<string, byte[]>(Entries);
        if (name is not null) entries[name] = replacement ?? throw new ArgumentNullException(nameof(replacement));
        return new Reader(Description, entries);
    }

    /// <summary>The safetensors file <paramref name="file"/> with the F32 tensor <paramref name="name"/> edited.</summary>
    public static byte[] EditTensor(byte[] file, string name, Action<float[]> edit)
    {
        var read = SafeTensors.Read(new MemoryStream(file));
        var tensors = read.Tensors.Select(tensor =>
        {
            if (tensor.Name != name) return tensor;
            var values = tensor.ToSingleArray();
            edit(values);
            return SafeTensor.Create(tensor.Name, tensor.Shape, values);
        });
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, tensors, read.Metadata);
        return stream.ToArray();
    }

    private sealed class EntryStream(Action<byte[]> onClose) : MemoryStream
    {
        protected override void Dispose(bool disposing)
        {
            if (disposing) onClose(ToArray());
            base.Dispose(disposing);
        }
    }

    private sealed class Reader(JsonNode description, Dictionary<string, byte[]> entries) : IModelReader
    {
        public Microsoft.ML.Runtime.IHostEnvironment Environment { get; } = new MLContext(seed: 1);

        public JsonNode ReadJson() => description.DeepClone();

        public bool ContainsStream(string name) => entries.ContainsKey(name);

        public Stream OpenStream(string name) => entries.TryGetValue(name, out var bytes) ? new MemoryStream(bytes) : throw new InvalidDataException($"No entry '{name}'.");
    }
}
