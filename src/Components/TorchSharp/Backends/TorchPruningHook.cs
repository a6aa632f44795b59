using Pipelines.Components.Sparsity;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Backends;

/// <summary>
/// Gradual magnitude pruning on the device: the <see cref="PruningTrainingHook"/>'s schedule, criterion and mask decide,
/// per-parameter mask tensors keep pruned weights, their gradients and their optimizer state exactly zero.
/// </summary>
/// <remarks>
/// Sparse pre-training (arXiv 2501.12486). Within step s, as the managed hook:
/// <list type="number">
/// <item>after backward: <c>grad ← grad ⊙ mask</c> for every parameter with pruned entries (at s = 0 a schedule that
/// prunes before training prunes first);</item>
/// <item>after the update: <c>θ ← θ ⊙ mask</c>; the pruner records N(s + 1); at a pruning step (rare) the values are
/// copied to the host so <see cref="GradualPruner"/>'s criterion extends the mask exactly as on the managed engine, the
/// mask is uploaded, and <c>θ</c> and every optimizer state tensor of the parameter (<see cref="Optimization.ITorchOptimizer.StateBuffersOf"/>)
/// are multiplied by it.</item>
/// </list>
/// Other steps read nothing back. The checkpointed state is the managed hook's; the mask tensors are rebuilt from it on resume.
/// </remarks>
internal sealed class TorchPruningHook : ITorchTrainingHook
{
    private readonly PruningTrainingHook hook;
    private readonly TorchHookContext context;
    private readonly (Parameter Parameter, ParameterSlice Slice)[] prunable; // Slice: the mask's own slice
    private readonly Tensor?[] masks;                                        // [prunable] null while nothing of it is pruned

    /// <exception cref="ArgumentException">The hook's mask does not have the module's layout.</exception>
    public TorchPruningHook(PruningTrainingHook hook, TorchHookContext context)
    {
        this.hook = hook;
        this.context = context;
        hook.Mask.RequireLayoutOf(context.Layout, nameof(hook));
        var byName = TorchParameters.Match(context.Module, context.Layout, nameof(context)).ToDictionary(pair => pair.Slice.Name, pair => pair.Parameter, StringComparer.Ordinal);
        prunable = hook.Mask.PrunableSlices
            .Select(slice => byName.TryGetValue(slice.Name, out var parameter) ? (parameter, slice)
                : throw new ArgumentException($"The pruning mask prunes '{slice.Name}', which the module does not have.", nameof(hook)))
            .ToArray();
        masks = new Tensor?[prunable.Length];
        Upload();
    }

    public ITrainingHook Hook => hook;

    public void AfterBackward(long step)
    {
        if (step == 0 && hook.CompletedSteps == 0) hook.CompleteStepElsewhere(-1, context.ValuesOnHost, ApplyMask);
        using var _ = no_grad();
        for (var index = 0; index < prunable.Length; index++)
        {
            if (masks[index] is { } mask && prunable[index].Parameter.grad is { } gradient) gradient.mul_(mask);
        }
    }

    public void AfterUpdate(long step)
    {
        MaskValues();
        hook.CompleteStepElsewhere(step, context.ValuesOnHost, ApplyMask);
    }

    public void Restored() => Upload();

    public void Dispose()
    {
        foreach (var mask in masks) mask?.Dispose();
    }

    /// <summary>Uploads the extended mask, masks the values and the optimizer state; returns the state tensors per parameter.</summary>
    private int ApplyMask()
    {
        Upload();
        MaskValues();
        var buffers = 0;
        using var _ = no_grad();
        for (var index = 0; index < prunable.Length; index++)
        {
            if (masks[index] is not { } mask) continue;
            var state = context.Optimizer.StateBuffersOf(prunable[index].Parameter);
            foreach (var buffer in state) buffer.mul_(mask);
            buffers = Math.Max(buffers, state.Count);
        }

        return buffers;
    }

    private void MaskValues()
    {
        using var _ = no_grad();
        for (var index = 0; index < prunable.Length; index++)
        {
            if (masks[index] is { } mask) prunable[index].Parameter.mul_(mask);
        }
    }

    /// <summary>Replaces the device mask of every parameter with pruned entries by the host mask's (host to device).</summary>
    private void Upload()
    {
        for (var index = 0; index < prunable.Length; index++)
        {
            var (parameter, slice) = prunable[index];
            masks[index]?.Dispose();
            masks[index] = TorchPruningMasks.KeptOf(hook.Mask, slice, parameter);
        }
    }
}
