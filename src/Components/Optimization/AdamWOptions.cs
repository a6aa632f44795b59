using Pipelines.Components.Schedules;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Options of <see cref="Optimizers.AdamW(AdamWOptions)"/>, with PyTorch's defaults.</summary>
/// <remarks>
/// Loshchilov &amp; Hutter, arXiv 1711.05101. Each option is checked when set: a bad value throws
/// <see cref="ArgumentOutOfRangeException"/> naming it.
/// </remarks>
public sealed record AdamWOptions
{
    /// <summary>Options with a learning-rate schedule.</summary>
    public AdamWOptions(ISchedule learningRate) => LearningRate = learningRate;

    /// <summary>Options with a constant learning rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is negative, NaN or infinite.</exception>
    public AdamWOptions(double learningRate) : this(new ConstantSchedule(OptionGuard.NonNegative(learningRate, nameof(LearningRate))))
    {
    }

    /// <summary>The learning-rate schedule.</summary>
    public ISchedule LearningRate { get; init => field = OptionGuard.NotNull(value, nameof(LearningRate)); }

    /// <summary>First-moment decay in [0, 1) (default 0.9).</summary>
    public double Beta1 { get; init => field = OptionGuard.DecayRate(value, nameof(Beta1)); } = 0.9;

    /// <summary>Second-moment decay in [0, 1) (default 0.999).</summary>
    public double Beta2 { get; init => field = OptionGuard.DecayRate(value, nameof(Beta2)); } = 0.999;

    /// <summary>Added to the root of the second moment, above 0 (default 1e-8).</summary>
    public double Epsilon { get; init => field = OptionGuard.Positive(value, nameof(Epsilon)); } = 1e-8;

    /// <summary>Decoupled weight decay, at least 0 (default 0.01, PyTorch's; nanoGPT uses 0.1).</summary>
    public double WeightDecay { get; init => field = OptionGuard.NonNegative(value, nameof(WeightDecay)); } = 0.01;

    /// <summary>Which parameters decay (default: matrices only, <see cref="Optimizers.DecayMatrices"/>).</summary>
    public Func<ParameterSlice, bool> Decays { get; init => field = OptionGuard.NotNull(value, nameof(Decays)); } = Optimizers.DecayMatrices;

    /// <summary>If set, the gradients are first clipped to this global L2 norm (nanoGPT: 1.0).</summary>
    public double? ClipNorm { get; init => field = value is { } norm ? OptionGuard.Positive(norm, nameof(ClipNorm)) : null; }
}
