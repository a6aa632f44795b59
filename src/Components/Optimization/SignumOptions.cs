using Pipelines.Components.Schedules;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Options of <see cref="Optimizers.Signum(SignumOptions)"/>: sign of momentum, with plain decoupled decay.</summary>
/// <remarks>
/// Bernstein et al., arXiv 1802.04434; as used in FOCUS (arXiv 2501.12243). Each option is checked when set:
/// a bad value throws <see cref="ArgumentOutOfRangeException"/> naming it.
/// </remarks>
public sealed record SignumOptions
{
    /// <summary>Options with a learning-rate schedule.</summary>
    public SignumOptions(ISchedule learningRate) => LearningRate = learningRate;

    /// <summary>Options with a constant learning rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is negative, NaN or infinite.</exception>
    public SignumOptions(double learningRate) : this(new ConstantSchedule(OptionGuard.NonNegative(learningRate, nameof(LearningRate))))
    {
    }

    /// <summary>The learning-rate schedule.</summary>
    public ISchedule LearningRate { get; init => field = OptionGuard.NotNull(value, nameof(LearningRate)); }

    /// <summary>Momentum decay in [0, 1) (default 0.9).</summary>
    public double Beta1 { get; init => field = OptionGuard.DecayRate(value, nameof(Beta1)); } = 0.9;

    /// <summary>Decoupled weight decay, at least 0 (default 0).</summary>
    public double WeightDecay { get; init => field = OptionGuard.NonNegative(value, nameof(WeightDecay)); }

    /// <summary>Which parameters decay (default: matrices only, <see cref="Optimizers.DecayMatrices"/>).</summary>
    public Func<ParameterSlice, bool> Decays { get; init => field = OptionGuard.NotNull(value, nameof(Decays)); } = Optimizers.DecayMatrices;

    /// <summary>If set, the gradients are first clipped to this global L2 norm.</summary>
    public double? ClipNorm { get; init => field = value is { } norm ? OptionGuard.Positive(norm, nameof(ClipNorm)) : null; }
}
