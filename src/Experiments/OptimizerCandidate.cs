using System.Globalization;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;

namespace Pipelines.Experiments;

/// <summary>The optimizers the pre-training experiments know by name.</summary>
public enum PretrainingOptimizer
{
    /// <summary>AdamW as in nanoGPT: b1 0.9, b2 0.95, decoupled decay 0.1 on matrices, gradients clipped to norm 1.</summary>
    AdamW,

    /// <summary>Signum: sign of momentum (b1 0.9), decay 0.2 on matrices (FOCUS's GPT-2 decay, so it is FOCUS without the attraction).</summary>
    Signum,

    /// <summary>FOCUS with the paper's GPT-2 settings (<see cref="FocusOptions.Gpt2"/>): b1 0.9, b2 0.99, gamma 0.2, decay 0.2.</summary>
    Focus,
}

/// <summary>One optimizer of an experiment: a name, how to build it for a schedule, and the peak rates to try.</summary>
/// <remarks>
/// Every run of an experiment uses the same model initialisation and the same batches (common random numbers), so
/// candidates differ only in the optimizer and its rate. The named defaults (<see cref="AdamW"/>, <see cref="Signum"/>,
/// <see cref="Focus"/>) are the usual small-GPT settings; pass <c>configure</c> to change any option with <c>with</c>.
/// </remarks>
public sealed record OptimizerCandidate
{
    /// <summary>Creates a candidate.</summary>
    /// <param name="name">The name used in tables, CSV and charts (unique within an experiment).</param>
    /// <param name="create">Builds the transform for a learning-rate schedule.</param>
    /// <param name="peakLearningRates">The peak rates of the grid, each finite and &gt; 0.</param>
    /// <exception cref="ArgumentException">An empty name or grid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A rate that is not finite and positive.</exception>
    public OptimizerCandidate(string name, Func<ISchedule, IGradientTransform> create, IReadOnlyList<double> peakLearningRates)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(peakLearningRates);
        if (peakLearningRates.Count == 0) throw new ArgumentException("At least one peak learning rate is needed.", nameof(peakLearningRates));
        foreach (var rate in peakLearningRates)
            if (!double.IsFinite(rate) || rate <= 0)
                throw new ArgumentOutOfRangeException(nameof(peakLearningRates), rate, string.Create(CultureInfo.InvariantCulture, $"Every peak learning rate of '{name}' must be finite and positive; got {rate}."));
        Name = name;
        Create = create;
        PeakLearningRates = [.. peakLearningRates];
    }

    /// <summary>The name used in tables, CSV and charts.</summary>
    public string Name { get; }

    /// <summary>Builds the transform for a learning-rate schedule.</summary>
    public Func<ISchedule, IGradientTransform> Create { get; }

    /// <summary>The peak rates of the grid.</summary>
    public IReadOnlyList<double> PeakLearningRates { get; }

    /// <summary>The named optimizer with its defaults (see <see cref="PretrainingOptimizer"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An unknown optimizer.</exception>
    public static OptimizerCandidate For(PretrainingOptimizer optimizer, IReadOnlyList<double> peakLearningRates) => optimizer switch
    {
        PretrainingOptimizer.AdamW => AdamW(peakLearningRates),
        PretrainingOptimizer.Signum => Signum(peakLearningRates),
        PretrainingOptimizer.Focus => Focus(peakLearningRates),
        _ => throw new ArgumentOutOfRangeException(nameof(optimizer), optimizer, "Unknown optimizer."),
    };

    /// <summary>AdamW (arXiv 1711.05101) as nanoGPT trains GPT-2: b2 0.95, decay 0.1, clipping at norm 1.</summary>
    public static OptimizerCandidate AdamW(IReadOnlyList<double> peakLearningRates, Func<AdamWOptions, AdamWOptions>? configure = null) =>
        new("AdamW", schedule => Optimizers.AdamW((configure ?? Same)(new AdamWOptions(schedule) { Beta2 = 0.95, WeightDecay = 0.1, ClipNorm = 1.0 })), peakLearningRates);

    /// <summary>Signum (arXiv 1802.04434): b1 0.9, decay 0.2 (FOCUS's, so the two differ only by FOCUS's attraction).</summary>
    public static OptimizerCandidate Signum(IReadOnlyList<double> peakLearningRates, Func<SignumOptions, SignumOptions>? configure = null) =>
        new("Signum", schedule => Optimizers.Signum((configure ?? Same)(new SignumOptions(schedule) { Beta1 = 0.9, WeightDecay = 0.2 })), peakLearningRates);

    /// <summary>FOCUS (arXiv 2501.12243) with the paper's GPT-2 settings, <see cref="FocusOptions.Gpt2"/>.</summary>
    public static OptimizerCandidate Focus(IReadOnlyList<double> peakLearningRates, Func<FocusOptions, FocusOptions>? configure = null) =>
        new("FOCUS", schedule => Optimizers.Focus((configure ?? Same)(FocusOptions.Gpt2(schedule))), peakLearningRates);

    private static T Same<T>(T options) => options;
}
