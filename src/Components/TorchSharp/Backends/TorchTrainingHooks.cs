using Pipelines.Components.Sparsity;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;
using Pipelines.Components.TorchSharp.Optimization;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Backends;

/// <summary>
/// A managed <see cref="ITrainingHook"/>'s part in a step on the device. The managed hook stays the one definition of the
/// technique and holds the state the checkpoint saves (<see cref="ITrainingHook.SaveState"/>); the device part does the
/// per-step tensor work and copies weights to the host only at the hook's rare events.
/// </summary>
internal interface ITorchTrainingHook : IDisposable
{
    /// <summary>The managed hook whose state is checkpointed.</summary>
    ITrainingHook Hook { get; }

    /// <summary>After the gradients of step <paramref name="step"/> are complete, before the update.</summary>
    void AfterBackward(long step);

    /// <summary>After the update of step <paramref name="step"/>.</summary>
    void AfterUpdate(long step);

    /// <summary>After <see cref="Hook"/>'s state and the module's weights were restored from a checkpoint: refresh what lives on the device.</summary>
    void Restored();
}

/// <summary>What the device parts of hooks share: the module, the managed layout it copies weights into at events, and the optimizer.</summary>
/// <param name="Module">The module whose parameters are trained.</param>
/// <param name="Layout">A managed arena with the module's names and shapes; weights are copied into it only at events.</param>
/// <param name="Optimizer">The optimizer, whose per-parameter state pruning masks and whose schedule <see cref="ScheduleLayoutHook"/> checks.</param>
internal sealed record TorchHookContext(nn.Module Module, ParameterArena Layout, ITorchOptimizer Optimizer)
{
    /// <summary>How many times the hooks copied the weights to the host (the tests hold it to the number of events).</summary>
    public int HostCopies { get; private set; }

    /// <summary>Copies the module's values into <see cref="Layout"/> (device to host) and returns it.</summary>
    public ParameterArena ValuesOnHost()
    {
        HostCopies++;
        Module.StoreValuesTo(Layout);
        return Layout;
    }
}

/// <summary>Maps the managed training hooks to their device parts, and refuses the hooks that have none by name.</summary>
internal static class TorchTrainingHooks
{
    /// <summary>Throws unless every hook has a device part.</summary>
    /// <exception cref="NotSupportedException">A hook has none; the message names it and the backend that runs it.</exception>
    public static void CheckSupported(IReadOnlyList<ITrainingHook> hooks)
    {
        ArgumentNullException.ThrowIfNull(hooks);
        if (hooks.FirstOrDefault(hook => hook is not (ScheduleLayoutHook or DecayedCheckpointHook or PruningTrainingHook)) is { } unsupported)
            throw new NotSupportedException(
                $"The TorchSharp backend does not run the training hook {unsupported.GetType().Name}; it runs {nameof(ScheduleLayoutHook)}, "
                + $"{nameof(DecayedCheckpointHook)} and {nameof(PruningTrainingHook)}. The managed backend (ManagedBackend) runs every hook.");
    }

    /// <summary>The device part of each hook, in order.</summary>
    /// <exception cref="NotSupportedException">A hook has no device part (see <see cref="CheckSupported"/>).</exception>
    /// <exception cref="ArgumentException">A pruning hook's mask does not have the module's layout.</exception>
    public static ITorchTrainingHook[] Create(IReadOnlyList<ITrainingHook> hooks, TorchHookContext context)
    {
        CheckSupported(hooks);
        return hooks.Select(hook => hook switch
        {
            ScheduleLayoutHook layout => new ScheduleLayoutPart(layout, context.Optimizer),
            DecayedCheckpointHook decayed => new DecayedCheckpointPart(decayed, context),
            PruningTrainingHook pruning => (ITorchTrainingHook)new TorchPruningHook(pruning, context),
            _ => throw new InvalidOperationException("Unreachable: checked above."),
        }).ToArray();
    }

    /// <summary>Advances the hook's step count and checks the optimizer's schedule once; touches no tensor.</summary>
    private sealed class ScheduleLayoutPart(ScheduleLayoutHook hook, ITorchOptimizer optimizer) : ITorchTrainingHook
    {
        public ITrainingHook Hook => hook;

        public void AfterBackward(long step)
        {
        }

        public void AfterUpdate(long step) => hook.AfterUpdate(step, () => optimizer.LearningRate);

        public void Restored()
        {
        }

        public void Dispose()
        {
        }
    }

    /// <summary>Copies the weights to the host only after the hook's step counts, and lets the hook save them there.</summary>
    private sealed class DecayedCheckpointPart(DecayedCheckpointHook hook, TorchHookContext context) : ITorchTrainingHook
    {
        public ITrainingHook Hook => hook;

        public void AfterBackward(long step)
        {
        }

        public void AfterUpdate(long step)
        {
            if (hook.SavesAfter(step + 1)) hook.Save(step + 1, context.ValuesOnHost());
        }

        public void Restored()
        {
        }

        public void Dispose()
        {
        }
    }
}
