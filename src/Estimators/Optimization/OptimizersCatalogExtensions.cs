using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;

namespace Pipelines;

/// <summary>
/// Optimizers for the training estimators' <c>Optimizer</c> option (<c>mlContext.Optimizers()</c>). Each entry returns a
/// factory from the run's learning-rate schedule to the optimizer chain, so the estimator keeps the schedule
/// (and its phase layout) while the user picks the update rule.
/// </summary>
/// <remarks>
/// <code>
/// var options = new CausalLanguageModelOptions { Optimizer = mlContext.Optimizers().Focus(), LearningRateSchedule = mlContext.Schedules().WarmupStableDecay(6e-4, 2000) };
/// </code>
/// Every entry has a simple overload (the paper's defaults) and an options-record overload whose learning rate is
/// replaced by the run's schedule. See <c>src/Components/Optimization/README.md</c> for the transforms.
/// </remarks>
public static class OptimizersCatalogExtensions
{
    /// <summary>AdamW (Loshchilov &amp; Hutter, arXiv 1711.05101); weight decay on matrices only.</summary>
    public static Func<ISchedule, IGradientTransform> AdamW(this OptimizersCatalog catalog, double beta1 = 0.9, double beta2 = 0.95, double weightDecay = 0.1, double epsilon = 1e-8) =>
        AdamW(catalog, new AdamWOptions(0) { Beta1 = beta1, Beta2 = beta2, WeightDecay = weightDecay, Epsilon = epsilon });

    /// <summary>AdamW with every option of <paramref name="options"/> except its learning rate, which the run's schedule replaces.</summary>
    public static Func<ISchedule, IGradientTransform> AdamW(this OptimizersCatalog catalog, AdamWOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return schedule => Optimizers.AdamW(options with { LearningRate = schedule });
    }

    /// <summary>Signum (Bernstein et al., arXiv 1802.04434): <c>theta -= lr*(sign(m) + wd*theta)</c>.</summary>
    public static Func<ISchedule, IGradientTransform> Signum(this OptimizersCatalog catalog, double beta1 = 0.9, double weightDecay = 0) =>
        Signum(catalog, new SignumOptions(0) { Beta1 = beta1, WeightDecay = weightDecay });

    /// <summary>Signum with every option of <paramref name="options"/> except its learning rate.</summary>
    public static Func<ISchedule, IGradientTransform> Signum(this OptimizersCatalog catalog, SignumOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return schedule => Optimizers.Signum(options with { LearningRate = schedule });
    }

    /// <summary>
    /// FOCUS (arXiv 2501.12243): Signum plus attraction toward an EMA of the parameters, with the reference code's
    /// defaults (b1 0.9, b2 0.999, gamma 0.1, wd 0); <see cref="FocusOptions.Gpt2"/> holds the paper's GPT-2 settings.
    /// </summary>
    public static Func<ISchedule, IGradientTransform> Focus(this OptimizersCatalog catalog, double beta1 = 0.9, double beta2 = 0.999, double gamma = 0.1, double weightDecay = 0,
        FocusWeightDecayPlacement placement = FocusWeightDecayPlacement.TowardEmaBeforeStep) =>
        Focus(catalog, new FocusOptions(0) { Beta1 = beta1, Beta2 = beta2, Gamma = gamma, WeightDecay = weightDecay, Placement = placement });

    /// <summary>FOCUS with every option of <paramref name="options"/> except its learning rate.</summary>
    public static Func<ISchedule, IGradientTransform> Focus(this OptimizersCatalog catalog, FocusOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return schedule => Optimizers.Focus(options with { LearningRate = schedule });
    }

    /// <summary>SGD with optional (Nesterov) momentum.</summary>
    public static Func<ISchedule, IGradientTransform> Sgd(this OptimizersCatalog catalog, double momentum = 0, bool nesterov = false) =>
        Sgd(catalog, new SgdOptions(0) { Momentum = momentum, Nesterov = nesterov });

    /// <summary>SGD with every option of <paramref name="options"/> except its learning rate.</summary>
    public static Func<ISchedule, IGradientTransform> Sgd(this OptimizersCatalog catalog, SgdOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return schedule => Optimizers.Sgd(options with { LearningRate = schedule });
    }
}
