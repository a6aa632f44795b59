using Pipelines.Components.Schedules;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Options of <see cref="Optimizers.Focus(FocusOptions)"/>, with the defaults of the paper's reference code.</summary>
/// <remarks>
/// arXiv 2501.12243. Reference-code defaults: lr 1e-2, b1 0.9, b2 0.999, gamma 0.1, wd 0. The paper's GPT-2
/// (small) runs used b2 0.99, gamma 0.2, wd 0.2 with lr 6e-4 (cosine, 2k warm-up steps): see <see cref="Gpt2"/>.
/// Each option is checked when set: a bad value throws <see cref="ArgumentOutOfRangeException"/> naming it.
/// </remarks>
public sealed record FocusOptions
{
    /// <summary>Options with a learning-rate schedule.</summary>
    public FocusOptions(ISchedule learningRate) => LearningRate = learningRate;

    /// <summary>Options with a constant learning rate (the reference code's default is 1e-2).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is negative, NaN or infinite.</exception>
    public FocusOptions(double learningRate) : this(new ConstantSchedule(OptionGuard.NonNegative(learningRate, nameof(LearningRate))))
    {
    }

    /// <summary>The paper's GPT-2 settings: b2 0.99, gamma 0.2, wd 0.2 (pair with a 6e-4 peak cosine schedule).</summary>
    public static FocusOptions Gpt2(ISchedule learningRate) => new(learningRate) { Beta2 = 0.99, Gamma = 0.2, WeightDecay = 0.2 };

    /// <summary>The learning-rate schedule.</summary>
    public ISchedule LearningRate { get; init => field = OptionGuard.NotNull(value, nameof(LearningRate)); }

    /// <summary>Momentum decay in [0, 1) (default 0.9).</summary>
    public double Beta1 { get; init => field = OptionGuard.DecayRate(value, nameof(Beta1)); } = 0.9;

    /// <summary>Parameter-average decay in [0, 1) (default 0.999; GPT-2: 0.99; the toy landscape: 0.9).</summary>
    public double Beta2 { get; init => field = OptionGuard.DecayRate(value, nameof(Beta2)); } = 0.999;

    /// <summary>Attraction strength, at least 0 (default 0.1; GPT-2 and the toy landscape: 0.2).</summary>
    public double Gamma { get; init => field = OptionGuard.NonNegative(value, nameof(Gamma)); } = 0.1;

    /// <summary>Weight decay, at least 0 (default 0; GPT-2: 0.2).</summary>
    public double WeightDecay { get; init => field = OptionGuard.NonNegative(value, nameof(WeightDecay)); }

    /// <summary>Where the decay applies (default: the paper's, toward the average before the sign step).</summary>
    public FocusWeightDecayPlacement Placement
    {
        get;
        init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(Placement), value, "Unknown weight-decay placement.");
    } = FocusWeightDecayPlacement.TowardEmaBeforeStep;

    /// <summary>Which parameters decay (default: matrices only, <see cref="Optimizers.DecayMatrices"/>).</summary>
    public Func<ParameterSlice, bool> Decays { get; init => field = OptionGuard.NotNull(value, nameof(Decays)); } = Optimizers.DecayMatrices;

    /// <summary>If set, the gradients are first clipped to this global L2 norm.</summary>
    public double? ClipNorm { get; init => field = value is { } norm ? OptionGuard.Positive(norm, nameof(ClipNorm)) : null; }
}
