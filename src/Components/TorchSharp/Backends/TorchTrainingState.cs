using Pipelines.Components.Tensors;
using Pipelines.Components.Training;
using Pipelines.Components.TorchSharp.Optimization;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Backends;

/// <summary>
/// The TorchSharp <see cref="ITrainingState"/>: a module's parameters on their device, an <see cref="ITorchOptimizer"/> and
/// the device parts of the training hooks (<see cref="TorchTrainingHooks"/>); checkpoints in the managed engine's format.
/// </summary>
/// <remarks>
/// Per update the only value read back is the gradients' sum of squares (one scalar), to stop a diverging run; hooks
/// copy weights to the host only at their events. A checkpoint is a <see cref="TrainingCheckpoint"/> (atomic, with the
/// run's <see cref="RunRecord"/>): the weights copied into the managed layout, the optimizer's
/// <see cref="ITorchOptimizer.SaveState"/>, the managed hooks' states and the history; so a resume under another run is
/// refused as on the managed engine, and a resumed run continues bit-identically on the same device and thread count.
/// </remarks>
internal sealed class TorchTrainingState : ITrainingState, IDisposable
{
    private readonly nn.Module module;
    private readonly ParameterArena layout;
    private readonly ITorchOptimizer optimizer;
    private readonly IReadOnlyList<ITrainingHook> hooks;
    private readonly TorchHookContext context;
    private readonly ITorchTrainingHook[] deviceHooks;

    /// <param name="module">The module whose parameters are trained.</param>
    /// <param name="layout">A managed arena with the module's names and shapes: checkpoints and hook events go through it.</param>
    /// <param name="optimizer">The optimizer on the module's parameters.</param>
    /// <param name="hooks">The run's hooks, in order (each must have a device part).</param>
    /// <exception cref="NotSupportedException">A hook has no device part (named).</exception>
    public TorchTrainingState(nn.Module module, ParameterArena layout, ITorchOptimizer optimizer, IReadOnlyList<ITrainingHook> hooks)
    {
        this.module = module;
        this.layout = layout;
        this.optimizer = optimizer;
        this.hooks = hooks;
        context = new TorchHookContext(module, layout, optimizer);
        deviceHooks = TorchTrainingHooks.Create(hooks, context);
    }

    /// <summary>How many times the hooks copied the weights to the host (checkpoints aside).</summary>
    internal int HostCopies => context.HostCopies;

    public double CurrentLearningRate => optimizer.CurrentLearningRate;

    public void ZeroGradients() => module.zero_grad();

    public void Update(long step)
    {
        using (var scope = NewDisposeScope())
        {
            var squares = module.parameters().Where(parameter => parameter.grad is not null).Select(parameter => SumOfSquares(parameter.grad!)).ToArray();
            var sum = squares.Length == 0 ? 0 : stack(squares).to_type(ScalarType.Float64).sum().item<double>();
            if (!double.IsFinite(sum)) throw new TrainingDivergedException(step, "gradients", sum);
        }

        foreach (var hook in deviceHooks) hook.AfterBackward(step);
        optimizer.Step();
        foreach (var hook in deviceHooks) hook.AfterUpdate(step);
    }

    /// <summary>Σ g² of one gradient in float32, as the managed check sums it: one dot product of the flat view, no squared copy.</summary>
    private static Tensor SumOfSquares(Tensor gradient)
    {
        var flat = gradient.is_contiguous() ? gradient.view(-1) : gradient.reshape(-1);
        return flat.dot(flat);
    }

    public void WriteCheckpoint(string path, long step, IReadOnlyList<StepMetrics> history, RunRecord run)
    {
        module.StoreValuesTo(layout);
        TrainingCheckpoint.Write(path, step, layout, optimizer.SaveState, history, hooks, run);
    }

    public (long Step, List<StepMetrics> History) ReadCheckpoint(string path, RunRecord run, RunChanges acceptedChanges)
    {
        var restored = TrainingCheckpoint.Read(path, layout, optimizer.LoadState, hooks, run, acceptedChanges);
        module.LoadFrom(layout);
        foreach (var hook in deviceHooks) hook.Restored();
        return restored;
    }

    public void Dispose()
    {
        foreach (var hook in deviceHooks) hook.Dispose();
    }
}
