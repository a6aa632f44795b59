using System.Globalization;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;

namespace Pipelines.Experiments;

/// <summary>One point of an optimizer's hyperparameter space: the optimizer, its peak rate and the settings that matter for it.</summary>
/// <param name="Optimizer">AdamW, Signum or FOCUS.</param>
/// <param name="PeakLearningRate">The peak of the WSD schedule.</param>
/// <param name="Beta1">Momentum decay: searched for Signum; 0.9 for AdamW and FOCUS.</param>
/// <param name="Beta2">Second-moment decay (AdamW) or parameter-average decay (FOCUS); unused by Signum.</param>
/// <param name="WeightDecay">Weight decay on matrices.</param>
/// <param name="Gamma">FOCUS's attraction strength; unused otherwise.</param>
/// <param name="Placement">Where FOCUS applies weight decay; unused otherwise.</param>
/// <remarks>
/// The transforms are <see cref="OptimizerCandidate"/>'s (AdamW clipped to norm 1 as nanoGPT; Signum and FOCUS unclipped,
/// as their sign steps ignore the gradient's scale), with these values set through its <c>configure</c> hook.
/// FOCUS: arXiv 2501.12243; Signum: arXiv 1802.04434; AdamW: arXiv 1711.05101.
/// </remarks>
public sealed record OptimizerSetting(PretrainingOptimizer Optimizer, double PeakLearningRate, double Beta1, double Beta2, double WeightDecay,
    double Gamma = 0, FocusWeightDecayPlacement Placement = FocusWeightDecayPlacement.TowardEmaBeforeStep)
{
    /// <summary>The optimizer's name in tables: <c>AdamW</c>, <c>Signum</c>, <c>FOCUS</c>.</summary>
    public string Name => Candidate.Name;

    /// <summary>The setting as short text, e.g. <c>lr 1e-3, b2 0.99, gamma 0.2, wd 0.2 (toward EMA before step)</c>.</summary>
    public string Description => Optimizer switch
    {
        PretrainingOptimizer.AdamW => Invariant($"lr {ExperimentText.Rate(PeakLearningRate)}, b2 {Beta2}, wd {WeightDecay}"),
        PretrainingOptimizer.Signum => Invariant($"lr {ExperimentText.Rate(PeakLearningRate)}, b1 {Beta1}, wd {WeightDecay}"),
        _ => Invariant($"lr {ExperimentText.Rate(PeakLearningRate)}, b2 {Beta2}, gamma {Gamma}, wd {WeightDecay} ({Placement})"),
    };

    /// <summary>The transform of this setting under <paramref name="schedule"/>.</summary>
    public IGradientTransform Create(ISchedule schedule) => Candidate.Create(schedule);

    private OptimizerCandidate Candidate => Optimizer switch
    {
        PretrainingOptimizer.AdamW => OptimizerCandidate.AdamW([PeakLearningRate], options => options with { Beta1 = Beta1, Beta2 = Beta2, WeightDecay = WeightDecay }),
        PretrainingOptimizer.Signum => OptimizerCandidate.Signum([PeakLearningRate], options => options with { Beta1 = Beta1, WeightDecay = WeightDecay }),
        PretrainingOptimizer.Focus => OptimizerCandidate.Focus([PeakLearningRate], options => options with
        {
            Beta1 = Beta1, Beta2 = Beta2, Gamma = Gamma, WeightDecay = WeightDecay, Placement = Placement,
        }),
        _ => throw new ArgumentOutOfRangeException(nameof(Optimizer), Optimizer, "Unknown optimizer."),
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// The hyperparameters searched for each optimizer, as lists of values, and the anchor setting each optimizer's
/// search starts from (so every search contains its optimizer's published defaults).
/// </summary>
/// <remarks>
/// Anchors: AdamW as nanoGPT (b2 0.95, wd 0.1) at 3e-3; Signum b1 0.9, wd 0.2 at 3e-4 (both the best rates of the
/// earlier grid); FOCUS with the paper's GPT-2 settings (b2 0.99, gamma 0.2, wd 0.2 toward the EMA before the step,
/// lr 6e-4). A search of n trials is the anchor plus n - 1 distinct random draws from the lists.
/// </remarks>
public sealed record OptimizerSearchSpace
{
    /// <summary>AdamW's peak rates.</summary>
    public IReadOnlyList<double> AdamWRates { get; init; } = [1e-3, 2e-3, 3e-3, 5e-3, 8e-3];

    /// <summary>AdamW's b2 values.</summary>
    public IReadOnlyList<double> AdamWBeta2 { get; init; } = [0.95, 0.99, 0.999];

    /// <summary>AdamW's weight decays.</summary>
    public IReadOnlyList<double> AdamWWeightDecays { get; init; } = [0, 0.1, 0.2];

    /// <summary>Signum's peak rates.</summary>
    public IReadOnlyList<double> SignumRates { get; init; } = [1e-4, 2e-4, 3e-4, 6e-4, 1e-3, 2e-3];

    /// <summary>Signum's momentum values (b1).</summary>
    public IReadOnlyList<double> SignumMomenta { get; init; } = [0.9, 0.95, 0.98];

    /// <summary>Signum's weight decays.</summary>
    public IReadOnlyList<double> SignumWeightDecays { get; init; } = [0, 0.1, 0.2];

    /// <summary>FOCUS's peak rates.</summary>
    public IReadOnlyList<double> FocusRates { get; init; } = [2e-4, 4e-4, 6e-4, 1e-3, 2e-3];

    /// <summary>FOCUS's b2 values (the parameter average's decay).</summary>
    public IReadOnlyList<double> FocusBeta2 { get; init; } = [0.9, 0.99, 0.999];

    /// <summary>FOCUS's gamma values.</summary>
    public IReadOnlyList<double> FocusGammas { get; init; } = [0.05, 0.1, 0.2, 0.4];

    /// <summary>FOCUS's weight decays.</summary>
    public IReadOnlyList<double> FocusWeightDecays { get; init; } = [0, 0.1, 0.2];

    /// <summary>The anchor of <paramref name="optimizer"/>'s search (see the remarks).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An unknown optimizer.</exception>
    public static OptimizerSetting Anchor(PretrainingOptimizer optimizer) => optimizer switch
    {
        PretrainingOptimizer.AdamW => new(optimizer, 3e-3, 0.9, 0.95, 0.1),
        PretrainingOptimizer.Signum => new(optimizer, 3e-4, 0.9, 0, 0.2),
        PretrainingOptimizer.Focus => new(optimizer, 6e-4, 0.9, 0.99, 0.2, 0.2, FocusWeightDecayPlacement.TowardEmaBeforeStep),
        _ => throw new ArgumentOutOfRangeException(nameof(optimizer), optimizer, "Unknown optimizer."),
    };

    /// <summary>The anchor and then <paramref name="trials"/> - 1 distinct random settings of <paramref name="optimizer"/>, drawn with <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trials"/> is below 1 or above the number of distinct settings.</exception>
    public IReadOnlyList<OptimizerSetting> Sample(PretrainingOptimizer optimizer, int trials, int seed)
    {
        var all = Enumerate(optimizer).ToArray();
        if (trials < 1 || trials > all.Length)
            throw new ArgumentOutOfRangeException(nameof(trials), trials, $"Between 1 and the {all.Length} distinct settings of {optimizer}.");
        var anchor = Anchor(optimizer);
        var random = new Random(seed);
        var others = all.Where(setting => setting != anchor).ToArray();
        random.Shuffle(others);
        return [anchor, .. others.Take(trials - 1)];
    }

    private IEnumerable<OptimizerSetting> Enumerate(PretrainingOptimizer optimizer) => optimizer switch
    {
        PretrainingOptimizer.AdamW =>
            from rate in AdamWRates from beta2 in AdamWBeta2 from decay in AdamWWeightDecays
            select new OptimizerSetting(optimizer, rate, 0.9, beta2, decay),
        PretrainingOptimizer.Signum =>
            from rate in SignumRates from beta1 in SignumMomenta from decay in SignumWeightDecays
            select new OptimizerSetting(optimizer, rate, beta1, 0, decay),
        PretrainingOptimizer.Focus =>
            from rate in FocusRates from beta2 in FocusBeta2 from gamma in FocusGammas from decay in FocusWeightDecays
            from placement in decay == 0 ? [FocusWeightDecayPlacement.TowardEmaBeforeStep] : Enum.GetValues<FocusWeightDecayPlacement>()
            select new OptimizerSetting(optimizer, rate, 0.9, beta2, decay, gamma, placement),
        _ => throw new ArgumentOutOfRangeException(nameof(optimizer), optimizer, "Unknown optimizer."),
    };
}
