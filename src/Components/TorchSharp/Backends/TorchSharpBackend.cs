using Pipelines.Components.Backends;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Backends;

/// <summary>
/// TorchSharp (libtorch) as an <see cref="ITrainingBackend"/>: models are <see cref="TorchGptModel"/>s on the device
/// given here, trained by the one <see cref="Training.TrainingLoop"/> with <see cref="Optimization.TorchOptimizer"/> (any optimizer chain of the managed building blocks).
/// </summary>
/// <remarks>
/// Pass one to an estimator's options (<c>Backend = new TorchSharpBackend("cuda:0")</c>); the application references a
/// libtorch runtime package (<c>libtorch-cpu-linux-x64</c>, <c>libtorch-cuda-12.1-linux-x64</c>, ...). New models start
/// from the managed engine's GPT-2 initialisation of the same seed, so both backends begin from the same weights.
/// Runs the GPT and the encoder classifier with any optimizer chain of the managed building blocks (AdamW, Signum, FOCUS,
/// SGD, clipping, masks, groups; see <see cref="Optimization.TorchOptimizer"/>); training checkpoints and resume; the
/// hooks of WSD schedule checks, WSD-S decayed checkpoints and gradual magnitude pruning.
/// </remarks>
public sealed class TorchSharpBackend : ITrainingBackend
{
    /// <summary>A backend on <paramref name="device"/>.</summary>
    /// <exception cref="TorchRuntimeUnavailableException">The native runtime cannot be loaded or does not support the device type (the message says what to install).</exception>
    public TorchSharpBackend(Device device)
    {
        Device = device ?? throw new ArgumentNullException(nameof(device));
        TorchRuntime.EnsureAvailable(device.type);
    }

    /// <summary>A backend on the device described by <paramref name="device"/> (<c>"cpu"</c>, <c>"cuda:1"</c>).</summary>
    /// <exception cref="ArgumentException">The description is malformed (it is quoted, with the valid device types).</exception>
    /// <exception cref="TorchRuntimeUnavailableException">The native runtime cannot be loaded or does not support the device type.</exception>
    public TorchSharpBackend(string device)
        : this(TorchDevices.Resolve(device))
    {
    }

    /// <summary>Where models, batches and optimizer state live.</summary>
    public Device Device { get; }

    /// <inheritdoc />
    public string Name => $"TorchSharp ({Device})";

    /// <inheritdoc />
    public IBackendLanguageModel CreateLanguageModel(TransformerConfig config, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        var initial = GptModel.Create(config, seed, Parallelism.Sequential);
        var module = new TorchGptModel(config, Device);
        module.LoadFrom(initial.Parameters);
        return new TorchLanguageModel(this, module);
    }

    /// <inheritdoc />
    public IBackendLanguageModel LoadLanguageModel(TransformerConfig config, Stream safeTensors)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(safeTensors);
        var module = new TorchGptModel(config, Device);
        try
        {
            module.LoadFrom(SafeTensors.Read(safeTensors));
        }
        catch (ArgumentException exception)
        {
            module.Dispose();
            throw new InvalidDataException($"The tensors do not fit a GPT of this shape: {exception.Message}", exception);
        }

        return new TorchLanguageModel(this, module);
    }

    /// <inheritdoc />
    public IBackendClassifier CreateClassifier(TransformerConfig config, int classCount, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        var initial = EncoderClassifier.Create(config, classCount, seed, Parallelism.Sequential);
        var module = new TorchEncoderClassifier(config, classCount, Device);
        module.LoadFrom(initial.Parameters);
        return new TorchClassifier(this, module);
    }

    /// <inheritdoc />
    public IBackendClassifier LoadClassifier(TransformerConfig config, int classCount, Stream safeTensors)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(safeTensors);
        var module = new TorchEncoderClassifier(config, classCount, Device);
        try
        {
            module.LoadFrom(SafeTensors.Read(safeTensors));
        }
        catch (ArgumentException exception)
        {
            module.Dispose();
            throw new InvalidDataException($"The tensors do not fit an encoder classifier of this shape: {exception.Message}", exception);
        }

        return new TorchClassifier(this, module);
    }
}
