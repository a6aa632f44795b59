using Pipelines.Components.Schedules;

namespace Pipelines.Components.Optimization;

/// <summary>Options of <see cref="Optimizers.Sgd(SgdOptions)"/>: stochastic gradient descent with optional (Nesterov) momentum.</summary>
/// <remarks>Each option is checked when set: a bad value throws <see cref="ArgumentOutOfRangeException"/> naming it.</remarks>
public sealed record SgdOptions
{
    /// <summary>Options with a learning-rate schedule.</summary>
    public SgdOptions(ISchedule learningRate) => LearningRate = learningRate;

    /// <summary>Options with a constant learning rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is negative, NaN or infinite.</exception>
    public SgdOptions(double learningRate) : this(new ConstantSchedule(OptionGuard.NonNegative(learningRate, nameof(LearningRate))))
    {
    }

    /// <summary>The learning-rate schedule.</summary>
    public ISchedule LearningRate { get; init => field = OptionGuard.NotNull(value, nameof(LearningRate)); }

    /// <summary>Heavy-ball momentum in [0, 1); 0 (the default) keeps no momentum buffer.</summary>
    public double Momentum { get; init => field = OptionGuard.DecayRate(value, nameof(Momentum)); }

    /// <summary>Nesterov momentum (needs <see cref="Momentum"/> &gt; 0).</summary>
    public bool Nesterov { get; init; }

    /// <summary>If set, the gradients are first clipped to this global L2 norm.</summary>
    public double? ClipNorm { get; init => field = value is { } norm ? OptionGuard.Positive(norm, nameof(ClipNorm)) : null; }
}
