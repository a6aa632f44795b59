using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;

namespace Pipelines.Estimators.Tests.Support;

/// <summary>A seeded GPT of a given shape saved as safetensors in the temp folder (a frozen body for fine-tuning tests); deleted on dispose.</summary>
internal sealed class PretrainedBody : IDisposable
{
    public PretrainedBody(TransformerConfig shape)
    {
        GptModel.Create(shape, seed: 17, Parallelism.Sequential).Parameters.SaveSafeTensors(Path);
    }

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"pretrained-body-{Guid.NewGuid():N}.safetensors");

    public void Dispose() => File.Delete(Path);
}
