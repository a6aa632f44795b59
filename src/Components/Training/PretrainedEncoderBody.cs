using Pipelines.Components.Models;
using Pipelines.Components.Serialization;

namespace Pipelines.Components.Training;

/// <summary>Starts a classifier from a pre-trained GPT: copies the shared body (embeddings, blocks, final norm) from its weights.</summary>
/// <remarks>
/// <see cref="GptModel"/> and <see cref="EncoderClassifier"/> name their common parameters alike (<c>wte.weight</c>,
/// <c>wpe.weight</c>, <c>blocks.{l}.*</c>, <c>lnf.*</c>), so a GPT's safetensors file fills every encoder parameter but the
/// head (<c>head.weight</c>, <c>head.bias</c>), which keeps its initial values. The blocks then run without the causal
/// mask, as when a decoder is fine-tuned as a sequence classifier (Radford et al. 2018, GPT-1).
/// </remarks>
public static class PretrainedEncoderBody
{
    /// <summary>The prefix of the classification head's parameters, which are not loaded.</summary>
    public const string HeadPrefix = "head.";

    /// <summary>Loads the body of <paramref name="model"/> from a safetensors file; returns the number of tensors copied.</summary>
    /// <exception cref="InvalidDataException">See <see cref="Load(EncoderClassifier, SafeTensorFile)"/>.</exception>
    public static int Load(EncoderClassifier model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return Load(model, SafeTensors.Read(path));
    }

    /// <summary>Copies every body parameter of <paramref name="model"/> from the tensor of the same name; tensors the body lacks are ignored.</summary>
    /// <exception cref="InvalidDataException">
    /// A body parameter has no tensor, or its tensor is not F32 or of another shape; the message lists every problem and
    /// the model is left unchanged.
    /// </exception>
    public static int Load(EncoderClassifier model, SafeTensorFile file)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(file);
        var body = model.Parameters.Parameters.Where(parameter => !parameter.Name.StartsWith(HeadPrefix, StringComparison.Ordinal)).ToList();
        var problems = new List<string>();
        foreach (var parameter in body)
        {
            if (!file.Contains(parameter.Name))
            {
                problems.Add($"missing tensor '{parameter.Name}' [{string.Join(", ", parameter.Shape)}]");
                continue;
            }

            var tensor = file[parameter.Name];
            if (tensor.DataType != SafeTensorDataType.Float32) problems.Add($"tensor '{parameter.Name}' is {tensor.DataType.FormatName()}, expected F32");
            else if (!tensor.Shape.SequenceEqual(parameter.Shape.Select(dimension => (long)dimension)))
                problems.Add($"tensor '{parameter.Name}' has shape [{string.Join(", ", tensor.Shape)}], the encoder's is [{string.Join(", ", parameter.Shape)}]");
        }

        if (problems.Count > 0)
            throw new InvalidDataException($"The pre-trained weights do not fit the encoder's body: {string.Join("; ", problems)}.");
        foreach (var parameter in body) file[parameter.Name].CopyTo(model.Parameters.ValuesOf(parameter));
        return body.Count;
    }
}
