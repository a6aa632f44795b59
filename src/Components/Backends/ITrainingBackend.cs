using Pipelines.Components.Models;

namespace Pipelines.Components.Backends;

/// <summary>
/// The one boundary between the estimators and whatever runs the maths: it makes models, from a seed or from named
/// tensors (PyTorch's names, as safetensors), that train, evaluate, score, generate and export themselves.
/// </summary>
/// <remarks>
/// Models cross the boundary only as named tensors, so a model trained on one backend loads on another.
/// <see cref="ManagedBackend"/> (the CPU engine of this library) is the default; the TorchSharp backend lives in
/// <c>Pipelines.Components.TorchSharp</c>, so a user who does not reference that package never loads libtorch.
/// </remarks>
public interface ITrainingBackend
{
    /// <summary>A short name for messages ("managed (4 threads)", "TorchSharp (cuda:0)").</summary>
    string Name { get; }

    /// <summary>A new causal language model of <paramref name="config"/>, initialised GPT-2 style from <paramref name="seed"/> as the managed engine does.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="config"/> is null.</exception>
    IBackendLanguageModel CreateLanguageModel(TransformerConfig config, ulong seed);

    /// <summary>A causal language model of <paramref name="config"/> whose weights are read from safetensors (PyTorch's names).</summary>
    /// <exception cref="InvalidDataException">The tensors do not match the model's parameters (every mismatch is named).</exception>
    IBackendLanguageModel LoadLanguageModel(TransformerConfig config, Stream safeTensors);

    /// <summary>A new encoder classifier of <paramref name="config"/> with <paramref name="classCount"/> classes, initialised from <paramref name="seed"/> as the managed engine does.</summary>
    /// <exception cref="NotSupportedException">The backend has no encoder classifier yet (the message says which backend has).</exception>
    IBackendClassifier CreateClassifier(TransformerConfig config, int classCount, ulong seed);

    /// <summary>An encoder classifier whose weights are read from safetensors (PyTorch's names).</summary>
    /// <exception cref="InvalidDataException">The tensors do not match the model's parameters (every mismatch is named).</exception>
    /// <exception cref="NotSupportedException">The backend has no encoder classifier yet.</exception>
    IBackendClassifier LoadClassifier(TransformerConfig config, int classCount, Stream safeTensors);
}
