using System.Numerics.Tensors;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Training;

/// <summary>The checks every training loop makes around an update, so that a diverging run stops naming the step.</summary>
internal static class TrainingGuard
{
    /// <summary>Throws <see cref="TrainingDivergedException"/> if the loss of step <paramref name="step"/> is not finite.</summary>
    public static void CheckLoss(long step, double loss)
    {
        if (!double.IsFinite(loss)) throw new TrainingDivergedException(step, "loss", loss);
    }

    /// <summary>
    /// Checks that the gradients are finite, then runs the hooks' <see cref="ITrainingHook.AfterBackward"/>, the
    /// optimizer's update and the hooks' <see cref="ITrainingHook.AfterUpdate"/>, in the order the hooks are given.
    /// </summary>
    /// <exception cref="TrainingDivergedException">A gradient is NaN or infinite (their sum of squares is not finite).</exception>
    public static void CheckedUpdate(long step, ParameterArena arena, IOptimizer optimizer, IReadOnlyList<ITrainingHook> hooks)
    {
        var gradientSquares = TensorPrimitives.SumOfSquares(arena.Gradients);
        if (!float.IsFinite(gradientSquares)) throw new TrainingDivergedException(step, "gradients", gradientSquares);
        foreach (var hook in hooks) hook.AfterBackward(step, arena);
        optimizer.Step(arena);
        foreach (var hook in hooks) hook.AfterUpdate(step, arena, optimizer);
    }
}
