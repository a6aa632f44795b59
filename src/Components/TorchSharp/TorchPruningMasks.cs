using Pipelines.Components.Sparsity;
using Pipelines.Components.Tensors;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp;

/// <summary>A <see cref="PruningMask"/>'s slices as tensors on a parameter's device, for the device parts of pruning.</summary>
internal static class TorchPruningMasks
{
    /// <summary>
    /// The mask of <paramref name="slice"/> (1 kept, 0 pruned) with the shape, type and device of <paramref name="parameter"/>,
    /// or null when nothing of it is pruned; detached from any dispose scope (the caller disposes it).
    /// </summary>
    public static Tensor? KeptOf(PruningMask mask, ParameterSlice slice, Tensor parameter) =>
        mask.PrunedCountOf(slice) == 0 ? null : tensor(mask.MaskOf(slice).ToArray(), parameter.shape, parameter.dtype, parameter.device).DetachFromDisposeScope();
}
