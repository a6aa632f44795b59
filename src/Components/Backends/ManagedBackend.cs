using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;

namespace Pipelines.Components.Backends;

/// <summary>The managed CPU engine of this library as an <see cref="ITrainingBackend"/>: parameters, gradients and optimizer state in one flat arena.</summary>
/// <param name="threadCount">Threads the kernels may use (results are bit-identical for the same count).</param>
public sealed class ManagedBackend(int threadCount) : ITrainingBackend
{
    /// <summary>Threads the kernels may use.</summary>
    public int ThreadCount { get; } = threadCount >= 1 ? threadCount : throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, "Must be at least 1.");

    /// <inheritdoc />
    public string Name => $"managed ({ThreadCount} threads)";

    /// <inheritdoc />
    public IBackendLanguageModel CreateLanguageModel(TransformerConfig config, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new ManagedLanguageModel(this, GptModel.Create(config, seed, new Parallelism(ThreadCount)));
    }

    /// <inheritdoc />
    public IBackendLanguageModel LoadLanguageModel(TransformerConfig config, Stream safeTensors)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(safeTensors);
        var model = new GptModel(config, new Parallelism(ThreadCount));
        model.Parameters.LoadSafeTensors(safeTensors);
        return new ManagedLanguageModel(this, model);
    }

    /// <inheritdoc />
    public IBackendClassifier CreateClassifier(TransformerConfig config, int classCount, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new ManagedClassifier(this, EncoderClassifier.Create(config, classCount, seed, new Parallelism(ThreadCount)));
    }

    /// <inheritdoc />
    public IBackendClassifier LoadClassifier(TransformerConfig config, int classCount, Stream safeTensors)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(safeTensors);
        var model = new EncoderClassifier(config, classCount, new Parallelism(ThreadCount));
        model.Parameters.LoadSafeTensors(safeTensors);
        return new ManagedClassifier(this, model);
    }

    /// <summary>The managed classifier around <paramref name="model"/>, which it takes over (the caller should not use <paramref name="model"/> afterwards).</summary>
    public ManagedClassifier Adopt(EncoderClassifier model)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Parallelism = new Parallelism(ThreadCount);
        return new ManagedClassifier(this, model);
    }

    /// <summary>The managed model around <paramref name="model"/>, which it takes over (the caller should not use <paramref name="model"/> afterwards).</summary>
    public ManagedLanguageModel Adopt(GptModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Parallelism = new Parallelism(ThreadCount);
        return new ManagedLanguageModel(this, model);
    }
}
