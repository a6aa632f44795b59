using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Training;

/// <summary>
/// Code that takes part in every training step without owning the loop: gradient masking and pruning
/// (sparse pre-training), adaptive clipping and noise (differential privacy), diagnostics.
/// </summary>
/// <remarks>
/// Order within step s (0-based): forward, backward, <see cref="AfterBackward"/>, optimizer update,
/// <see cref="AfterUpdate"/>. A hook's state is saved in the training checkpoint, after the optimizer's,
/// so a resumed run continues bit-identically.
/// </remarks>
public interface ITrainingHook
{
    /// <summary>Called after the gradients of step <paramref name="step"/> are complete, before the update.</summary>
    void AfterBackward(long step, ParameterArena arena);

    /// <summary>Called after the update of step <paramref name="step"/>; <paramref name="step"/> + 1 updates are done.</summary>
    void AfterUpdate(long step, ParameterArena arena, IOptimizer optimizer);

    /// <summary>Writes the hook's state into a checkpoint.</summary>
    void SaveState(BinaryWriter writer);

    /// <summary>Restores a state written by <see cref="SaveState"/>.</summary>
    /// <exception cref="InvalidDataException">The stored state does not fit this hook.</exception>
    void LoadState(BinaryReader reader);
}
