using Pipelines.Components.Schedules;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>
/// The user-facing optimizers, each a <see cref="Chain"/> of building blocks; run one with
/// <see cref="GradientTransformOptimizer"/>.
/// </summary>
/// <remarks>
/// Weight decay applies to matrices only by default (<see cref="DecayMatrices"/>): never to biases or norms, and a
/// tied embedding/head is one slice, so it decays and updates once. When <c>ClipNorm</c> is set, the chain starts
/// with <see cref="ClipByGlobalNorm"/>. The chain's shape depends only on the structural options (clipping, SGD
/// momentum), not on the rates, so a checkpoint loads into a run that changes rates.
/// </remarks>
public static class Optimizers
{
    /// <summary>The default weight-decay predicate: tensors of rank two or more (<see cref="ParameterSlice.IsMatrix"/>).</summary>
    public static Func<ParameterSlice, bool> DecayMatrices { get; } = static slice => slice.IsMatrix;

    /// <summary>SGD: <c>theta -= lr*g</c>, or with momentum <c>b = mu*b + g; theta -= lr*b</c> (Nesterov: <c>lr*(g + mu*b)</c>).</summary>
    /// <exception cref="ArgumentException">Nesterov without momentum.</exception>
    public static IGradientTransform Sgd(SgdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Nesterov && options.Momentum == 0)
            throw new ArgumentException("Nesterov momentum needs Momentum > 0.", nameof(options));
        var steps = new List<IGradientTransform>();
        AddClipping(steps, options.ClipNorm);
        if (options.Momentum > 0) steps.Add(new TraceMomentum(options.Momentum, options.Nesterov));
        steps.Add(new ScaleByLearningRate(options.LearningRate));
        return new Chain([.. steps]);
    }

    /// <summary>SGD with a constant rate; see <see cref="Sgd(SgdOptions)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A rate or momentum out of range, naming the option.</exception>
    public static IGradientTransform Sgd(double learningRate, double momentum = 0, bool nesterov = false) =>
        Sgd(new SgdOptions(learningRate) { Momentum = momentum, Nesterov = nesterov });

    /// <summary>AdamW: <c>Chain(ClipByGlobalNorm?, ScaleByAdam, Masked(AddDecayedWeights, Decays), ScaleByLearningRate)</c>.</summary>
    /// <remarks>Loshchilov &amp; Hutter, arXiv 1711.05101: <c>theta -= lr*(mhat/(sqrt(vhat)+eps) + wd*theta)</c>.</remarks>
    public static IGradientTransform AdamW(AdamWOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var steps = new List<IGradientTransform>();
        AddClipping(steps, options.ClipNorm);
        steps.Add(new ScaleByAdam(options.Beta1, options.Beta2, options.Epsilon));
        steps.Add(new Masked(new AddDecayedWeights(options.WeightDecay), options.Decays));
        steps.Add(new ScaleByLearningRate(options.LearningRate));
        return new Chain([.. steps]);
    }

    /// <summary>AdamW with a schedule; see <see cref="AdamW(AdamWOptions)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range, naming it.</exception>
    public static IGradientTransform AdamW(ISchedule learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0.01, double? clipNorm = null) =>
        AdamW(new AdamWOptions(learningRate) { Beta1 = beta1, Beta2 = beta2, Epsilon = epsilon, WeightDecay = weightDecay, ClipNorm = clipNorm });

    /// <summary>AdamW with a constant rate; see <see cref="AdamW(AdamWOptions)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range, naming it.</exception>
    public static IGradientTransform AdamW(double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0.01, double? clipNorm = null) =>
        AdamW(new AdamWOptions(learningRate) { Beta1 = beta1, Beta2 = beta2, Epsilon = epsilon, WeightDecay = weightDecay, ClipNorm = clipNorm });

    /// <summary>Signum: <c>Chain(ClipByGlobalNorm?, ScaleByMomentum, ScaleBySign, Masked(AddDecayedWeights, Decays), ScaleByLearningRate)</c>.</summary>
    /// <remarks>
    /// Bernstein et al., arXiv 1802.04434: <c>m = b1*m + (1-b1)*g; theta -= lr*(sign(m) + wd*theta)</c>, which is FOCUS
    /// (arXiv 2501.12243) with gamma = 0 and no parameter average, the decay placed as in its toy script.
    /// </remarks>
    public static IGradientTransform Signum(SignumOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var steps = new List<IGradientTransform>();
        AddClipping(steps, options.ClipNorm);
        steps.Add(new ScaleByMomentum(options.Beta1));
        steps.Add(new ScaleBySign());
        steps.Add(new Masked(new AddDecayedWeights(options.WeightDecay), options.Decays));
        steps.Add(new ScaleByLearningRate(options.LearningRate));
        return new Chain([.. steps]);
    }

    /// <summary>Signum with a constant rate; see <see cref="Signum(SignumOptions)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range, naming it.</exception>
    public static IGradientTransform Signum(double learningRate, double beta1 = 0.9, double weightDecay = 0) =>
        Signum(new SignumOptions(learningRate) { Beta1 = beta1, WeightDecay = weightDecay });

    /// <summary>FOCUS: <c>Chain(ClipByGlobalNorm?, ScaleByFocus)</c>; see <see cref="ScaleByFocus"/> for the step.</summary>
    /// <remarks>
    /// arXiv 2501.12243. Defaults of the reference code: lr 1e-2, b1 0.9, b2 0.999, gamma 0.1, wd 0, decay placed as
    /// in the paper. GPT-2 (small) used b2 0.99, gamma 0.2, wd 0.2, lr 6e-4 (<see cref="FocusOptions.Gpt2"/>).
    /// </remarks>
    public static IGradientTransform Focus(FocusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var steps = new List<IGradientTransform>();
        AddClipping(steps, options.ClipNorm);
        steps.Add(new ScaleByFocus(options.LearningRate, options.Beta1, options.Beta2, options.Gamma, options.WeightDecay, options.Placement, options.Decays));
        return new Chain([.. steps]);
    }

    /// <summary>FOCUS with a constant rate; see <see cref="Focus(FocusOptions)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range, naming it.</exception>
    public static IGradientTransform Focus(double learningRate, double beta1 = 0.9, double beta2 = 0.999, double gamma = 0.1, double weightDecay = 0,
        FocusWeightDecayPlacement placement = FocusWeightDecayPlacement.TowardEmaBeforeStep) =>
        Focus(new FocusOptions(learningRate) { Beta1 = beta1, Beta2 = beta2, Gamma = gamma, WeightDecay = weightDecay, Placement = placement });

    private static void AddClipping(List<IGradientTransform> steps, double? clipNorm)
    {
        if (clipNorm is { } norm) steps.Add(new ClipByGlobalNorm(norm));
    }
}
