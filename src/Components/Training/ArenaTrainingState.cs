using Pipelines.Components.Compute;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Training;

/// <summary>
/// The managed engine's <see cref="ITrainingState"/>: a <see cref="ParameterArena"/>, an <see cref="IOptimizer"/>
/// over it and the <see cref="ITrainingHook"/>s around each update, all saved in <see cref="TrainingCheckpoint"/>s.
/// </summary>
/// <param name="parameters">The weights and gradients.</param>
/// <param name="optimizer">The optimizer (its state is checkpointed with the weights).</param>
/// <param name="hooks">Code that takes part in every step, called in this order; their states are checkpointed.</param>
public sealed class ArenaTrainingState(ParameterArena parameters, IOptimizer optimizer, IReadOnlyList<ITrainingHook>? hooks = null) : ITrainingState
{
    private readonly ParameterArena parameters = parameters ?? throw new ArgumentNullException(nameof(parameters));
    private readonly IOptimizer optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
    private readonly IReadOnlyList<ITrainingHook> hooks = hooks ?? [];

    /// <inheritdoc />
    public double CurrentLearningRate => optimizer.CurrentLearningRate;

    /// <summary>The threads that clear the gradients (usually the model's; default one).</summary>
    public Parallelism Parallelism { get; init; }

    /// <inheritdoc />
    public void ZeroGradients() => parameters.ZeroGradients(Parallelism);

    /// <inheritdoc />
    public void Update(long step) => TrainingGuard.CheckedUpdate(step, parameters, optimizer, hooks);

    /// <inheritdoc />
    public void WriteCheckpoint(string path, long step, IReadOnlyList<StepMetrics> history, RunRecord run) =>
        TrainingCheckpoint.Write(path, step, parameters, optimizer, history, hooks, run);

    /// <inheritdoc />
    public (long Step, List<StepMetrics> History) ReadCheckpoint(string path, RunRecord run, RunChanges acceptedChanges) =>
        TrainingCheckpoint.Read(path, parameters, optimizer, hooks, run, acceptedChanges);
}
