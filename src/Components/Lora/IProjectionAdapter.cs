using Pipelines.Components.Compute;

namespace Pipelines.Components.Lora;

/// <summary>
/// What a <see cref="Models.TransformerBlock"/> calls after each of its linear projections: the forward adds a term to the
/// projection's output, the backward accumulates into the projection's input gradient (after the base layer's backward).
/// </summary>
internal interface IProjectionAdapter
{
    /// <summary>output[N, OC] += the adapter's term for <paramref name="input"/>[N, IC] of block <paramref name="layer"/>'s <paramref name="projection"/>.</summary>
    void Forward(int layer, LoraProjection projection, ReadOnlySpan<float> input, Span<float> output, int rows, Parallelism parallelism);

    /// <summary>Whether the adapter has a module in block <paramref name="layer"/> (whose backward then has gradients to compute).</summary>
    bool Adapts(int layer);

    /// <summary>inputGradient[N, IC] += the adapter's share (skipped when it is empty); accumulates the adapter's own parameter gradients.</summary>
    void Backward(int layer, LoraProjection projection, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, Span<float> inputGradient, int rows, Parallelism parallelism);
}
