using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>
/// A transform whose update is exactly zero outside the slices <see cref="Moves"/> selects, for every gradient and state, so
/// <see cref="GradientTransformOptimizer"/> may hand it only those slices and skip the rest of the arena (a frozen base under
/// LoRA is 97% of it: copying its gradients, zeroing its updates and adding them cost a full step's optimizer pass).
/// </summary>
internal interface IPartialTransform
{
    /// <summary>Whether the update of <paramref name="slice"/> can be nonzero.</summary>
    bool Moves(ParameterSlice slice);
}
