using Pipelines.Components.Optimization;

namespace Pipelines.Components.TorchSharp.Backends;

/// <summary>Recognises the optimizer chains the TorchSharp backend runs on the device (AdamW, optionally clipped) and refuses the others by name.</summary>
internal static class TorchOptimizerChains
{
    /// <summary>
    /// The <see cref="AdamWOptions"/> of <paramref name="chain"/> when it is <c>Chain(ClipByGlobalNorm?, ScaleByAdam,
    /// Masked(AddDecayedWeights, Decays), ScaleByLearningRate)</c> (nested chains flattened), as <see cref="Optimizers.AdamW(AdamWOptions)"/> builds it.
    /// </summary>
    /// <exception cref="NotSupportedException">Any other chain; the message names the transforms and the backend that runs them.</exception>
    public static AdamWOptions ToAdamW(IGradientTransform chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        var transforms = Flatten(chain).ToList();
        double? clipNorm = null;
        if (transforms.Count == 4 && transforms[0] is ClipByGlobalNorm clip)
        {
            clipNorm = clip.MaxNorm;
            transforms.RemoveAt(0);
        }

        if (transforms is [ScaleByAdam adam, Masked { Inner: AddDecayedWeights decay } masked, ScaleByLearningRate rate])
        {
            return new AdamWOptions(rate.LearningRate)
            {
                Beta1 = adam.Beta1, Beta2 = adam.Beta2, Epsilon = adam.Epsilon, WeightDecay = decay.WeightDecay, Decays = masked.Predicate, ClipNorm = clipNorm,
            };
        }

        throw new NotSupportedException(
            $"The TorchSharp backend runs AdamW only (Optimizers.AdamW, optionally after ClipByGlobalNorm); this optimizer chain is "
            + $"{string.Join(" -> ", Flatten(chain).Select(transform => transform.GetType().Name))}. "
            + "The managed backend (ManagedBackend) runs every optimizer chain.");
    }

    private static IEnumerable<IGradientTransform> Flatten(IGradientTransform transform) =>
        transform is Chain chain ? chain.Transforms.SelectMany(Flatten) : [transform];
}
