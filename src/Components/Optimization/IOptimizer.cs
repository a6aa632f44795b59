using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>
/// The narrow seam between a training loop and an optimizer: one update of the arena's values from its
/// gradients, with state that can be checkpointed.
/// </summary>
public interface IOptimizer
{
    /// <summary>Number of updates applied so far (0 before the first <see cref="Step"/>).</summary>
    long StepCount { get; }

    /// <summary>The learning rate the next <see cref="Step"/> will use (after any schedule).</summary>
    double CurrentLearningRate { get; }

    /// <summary>Applies one update: reads <see cref="ParameterArena.Gradients"/>, writes <see cref="ParameterArena.Values"/>.</summary>
    void Step(ParameterArena arena);

    /// <summary>Writes the complete optimizer state (step count and every buffer) for a checkpoint.</summary>
    void SaveState(BinaryWriter writer);

    /// <summary>Restores a state written by <see cref="SaveState"/>; the next step continues bit-identically.</summary>
    /// <exception cref="InvalidDataException">The state does not fit this optimizer or arena.</exception>
    void LoadState(BinaryReader reader);
}
