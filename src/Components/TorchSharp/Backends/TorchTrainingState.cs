using Pipelines.Components.Training;
using Pipelines.Components.TorchSharp.Optimization;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Backends;

/// <summary>
/// The TorchSharp <see cref="ITrainingState"/>: a module's parameters on their device and an <see cref="ITorchOptimizer"/>;
/// the only value read back per update is the gradients' sum of squares (one scalar), to stop a diverging run.
/// </summary>
internal sealed class TorchTrainingState(nn.Module module, ITorchOptimizer optimizer) : ITrainingState
{
    public double CurrentLearningRate => optimizer.CurrentLearningRate;

    public void ZeroGradients() => module.zero_grad();

    public void Update(long step)
    {
        using (var scope = NewDisposeScope())
        {
            var squares = module.parameters().Where(parameter => parameter.grad is not null).Select(parameter => parameter.grad!.square().sum()).ToArray();
            var sum = squares.Length == 0 ? 0 : stack(squares).to_type(ScalarType.Float64).sum().item<double>();
            if (!double.IsFinite(sum)) throw new TrainingDivergedException(step, "gradients", sum);
        }

        optimizer.Step();
    }

    public void WriteCheckpoint(string path, long step, IReadOnlyList<StepMetrics> history, RunRecord run) => throw CheckpointsUnsupported();

    public (long Step, List<StepMetrics> History) ReadCheckpoint(string path, RunRecord run, RunChanges acceptedChanges) => throw CheckpointsUnsupported();

    internal static NotSupportedException CheckpointsUnsupported() => new(
        "The TorchSharp backend does not write or resume training checkpoints yet; the managed backend (ManagedBackend) does. "
        + "Leave CheckpointInterval at 0 and ResumeFrom unset, or train on the managed backend.");
}
