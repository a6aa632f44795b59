using Pipelines.Components.Schedules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Optimization;

/// <summary>
/// An optimizer over a module's parameters on their device: the TorchSharp counterpart of
/// <see cref="Components.Optimization.IOptimizer"/>, with its state checkpointable and reachable per parameter.
/// </summary>
/// <remarks>
/// The training state of the TorchSharp backend drives one of these; pruning zeroes its state where a mask is zero
/// (<see cref="StateBuffersOf"/>), and checkpoints save it (<see cref="SaveState"/>) so a resumed run continues exactly.
/// </remarks>
public interface ITorchOptimizer : IDisposable
{
    /// <summary>Updates applied so far.</summary>
    long StepCount { get; }

    /// <summary>The learning-rate schedule the optimizer follows (null if it has none), for hooks that check it against their plan.</summary>
    ISchedule? LearningRate { get; }

    /// <summary>The learning rate the next <see cref="Step"/> will use.</summary>
    double CurrentLearningRate { get; }

    /// <summary>Applies one update from the parameters' gradients (a parameter without a gradient is treated as having 0).</summary>
    void Step();

    /// <summary>Every state tensor shaped like <paramref name="parameter"/> (moments, parameter averages); empty when the optimizer keeps none for it.</summary>
    IReadOnlyList<Tensor> StateBuffersOf(Parameter parameter);

    /// <summary>Writes the step count and every state tensor.</summary>
    void SaveState(BinaryWriter writer);

    /// <summary>Restores a state written by <see cref="SaveState"/> of an optimizer of the same kind over the same parameters.</summary>
    /// <exception cref="InvalidDataException">The stored state does not fit this optimizer (kind, parameter count or a shape differs).</exception>
    void LoadState(BinaryReader reader);
}
