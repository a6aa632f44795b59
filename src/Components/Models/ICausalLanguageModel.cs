using Pipelines.Components.Tensors;

namespace Pipelines.Components.Models;

/// <summary>
/// The seam between training code and a causal language model's backend. The managed CPU engine
/// (<see cref="GptModel"/>) implements it; a TorchSharp/GPU backend can implement it where that package exists.
/// </summary>
public interface ICausalLanguageModel : ITransformerModel
{
    /// <summary>Logits of the last forward pass, [B, T, V].</summary>
    ReadOnlySpan<float> Logits { get; }

    /// <summary>
    /// Runs the model on <paramref name="tokens"/> [B, T]. With <paramref name="targets"/> [B, T] (next tokens;
    /// -1 = ignore) returns the mean cross-entropy and prepares <see cref="Backward"/>; without, returns NaN.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, the sequence is longer than the context, or an id is outside the vocabulary.</exception>
    /// <exception cref="ArgumentException">A span's length does not match <paramref name="batchSize"/> × <paramref name="tokenCount"/>.</exception>
    float Forward(ReadOnlySpan<int> tokens, ReadOnlySpan<int> targets, int batchSize, int tokenCount);

    /// <summary>Back-propagates the mean loss of the last forward pass; gradients accumulate into <see cref="ITransformerModel.Parameters"/>.</summary>
    void Backward();
}

/// <summary>What every transformer model of the engine exposes: its shape, parameters and blocks.</summary>
public interface ITransformerModel
{
    /// <summary>The model's shape.</summary>
    TransformerConfig Config { get; }

    /// <summary>All parameters and their gradients.</summary>
    ParameterArena Parameters { get; }

    /// <summary>The blocks, with their activations and gradients from the last passes.</summary>
    TransformerStack Stack { get; }

    /// <summary>Batch size of the last forward pass.</summary>
    int BatchSize { get; }

    /// <summary>Tokens per sequence of the last forward pass.</summary>
    int TokenCount { get; }

    /// <summary>Chooses which parameters receive gradients; frozen ones are skipped by backward.</summary>
    void SetTrainable(Func<ParameterSlice, bool> predicate);

    /// <summary>Whether backward computes this parameter's gradient.</summary>
    bool IsTrainable(ParameterSlice parameter);
}
