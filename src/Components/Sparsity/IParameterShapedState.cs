using Pipelines.Components.Optimization;

namespace Pipelines.Components.Sparsity;

/// <summary>
/// A <see cref="TransformState"/> whose buffers (momenta, second moments, parameter averages...) are laid out
/// like the parameter arena, so pruning can zero the entries of pruned weights.
/// </summary>
/// <remarks>
/// Optimizer states that implement this let <see cref="ApplyMaskTransform.MaskState(TransformState)"/> find
/// them inside a chain. Scalar state (step counts) is not listed.
/// </remarks>
public interface IParameterShapedState
{
    /// <summary>The state's buffers, each <c>ParameterArena.BufferLength</c> long.</summary>
    IReadOnlyList<Memory<float>> ParameterShapedBuffers { get; }
}
