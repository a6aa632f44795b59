namespace Pipelines.Components.Optimization;

/// <summary>A state that keeps buffers laid out like the arena's values (momenta, second moments, parameter averages).</summary>
/// <remarks>
/// Code outside the chain reaches them through <see cref="TransformState.SelfAndDescendants"/>, e.g. pruning,
/// which must zero the optimizer state where its mask is zero, or a report of the state's size.
/// </remarks>
public interface IParameterBufferState
{
    /// <summary>The buffers, each as long as <see cref="Tensors.ParameterArena.BufferLength"/>; writable on purpose.</summary>
    IReadOnlyList<float[]> Buffers { get; }
}
