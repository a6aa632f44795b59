using Pipelines.Components.Tensors;

namespace Pipelines.Components.Privacy;

/// <summary>A model bound to its dataset that adds the clipped sum <c>sum_i c_i g_i</c> of any set of examples to its gradients in batched passes.</summary>
/// <remarks>
/// <c>c_i = min(1, C / (||g_i|| + 1e-6))</c> per clipping group (Abadi et al. 2016, arXiv 1607.00133), with <c>||g_i||</c> over every
/// trainable parameter from one batched forward and backward pass (<see cref="GptPerExampleClipping"/>,
/// <see cref="EncoderPerExampleClipping"/>). <see cref="DifferentiallyPrivateStep"/> calls it once per virtual batch.
/// </remarks>
public interface IPerExampleClippedGradients
{
    /// <summary>The model's parameters; <see cref="AddClippedGradients"/> adds into their gradients.</summary>
    ParameterArena Parameters { get; }

    /// <summary>The clipping groups.</summary>
    ClippingGroups Groups { get; }

    /// <summary>N, the examples in the bound dataset.</summary>
    int ExampleCount { get; }

    /// <summary>Whether the model trains <paramref name="parameter"/> (frozen ones get no gradient and no noise).</summary>
    bool IsTrainable(ParameterSlice parameter);

    /// <summary>Adds <c>sum_i c_i g_i</c> over <paramref name="examples"/> (dataset indices) to <see cref="Parameters"/>' gradients.</summary>
    PerExampleClippingReport AddClippedGradients(ReadOnlySpan<int> examples);
}
