using Pipelines.Components.Tensors;

namespace Pipelines.Components.Privacy;

/// <summary>Runs a model's backward pass for its activation gradients only, by freezing every parameter for the pass.</summary>
/// <remarks>
/// The per-example routes rebuild the clipped parameter gradients from the activation gradients, so the ordinary
/// parameter gradients of this pass would be discarded: skipping them saves about a third of the backward pass.
/// The model's trainable set is restored afterwards, also when the pass throws.
/// </remarks>
internal static class ActivationBackward
{
    /// <summary>Returns which parameters were trainable (by index) and runs <paramref name="backward"/> with none trainable.</summary>
    public static bool[] Run(ParameterArena arena, Func<ParameterSlice, bool> isTrainable, Action<Func<ParameterSlice, bool>> setTrainable, Action backward)
    {
        var trainable = arena.Parameters.Select(isTrainable).ToArray();
        setTrainable(static _ => false);
        try
        {
            backward();
        }
        finally
        {
            setTrainable(parameter => trainable[parameter.Index]);
        }

        return trainable;
    }
}
