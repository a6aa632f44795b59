using Pipelines.Components.Optimization;

namespace Pipelines.Experiments;

/// <summary>The optimizers the narrowing-valley experiment compares.</summary>
public enum ValleyOptimizer
{
    /// <summary>Adam (b1 0.9, b2 0.999, eps 1e-8): <c>Chain(ScaleByAdam, AddDecayedWeights, ScaleByLearningRate)</c>.</summary>
    Adam,

    /// <summary>Signum (b1 0.9), plain decoupled decay: <see cref="Optimizers.Signum(SignumOptions)"/>.</summary>
    Signum,

    /// <summary>FOCUS (b1 0.9, b2 0.9, gamma 0.2): <see cref="Optimizers.Focus(FocusOptions)"/>.</summary>
    Focus,
}

/// <summary>Options of <see cref="NarrowingValleyExperiment"/>, with the paper's defaults (arXiv 2501.12243, Fig. 2).</summary>
/// <remarks>
/// The paper scans 100 noise levels in [0, 3] by 96 sharpnesses in logspace(-1, 3); the default grid here is a
/// coarse 7 x 5 subset of that range. With weight decay, every optimizer decays both coordinates (as the paper's
/// script does), Adam and Signum decoupled (<c>-lr*wd*theta</c>) and FOCUS as <see cref="FocusPlacement"/> says.
/// Each option is checked when set: a bad value throws <see cref="ArgumentOutOfRangeException"/> naming it.
/// </remarks>
public sealed record NarrowingValleyOptions
{
    /// <summary>Steps per run (default 1000).</summary>
    public int Steps { get; init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Steps), value, "At least one step."); } = 1000;

    /// <summary>Independent replicates per (optimizer, learning rate) run; the score is their mean final loss (default 50).</summary>
    public int Replicates { get; init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Replicates), value, "At least one replicate."); } = 50;

    /// <summary>The learning rates swept; each optimizer is scored at its best one (default logspace(-3, 0, 20)).</summary>
    public IReadOnlyList<double> LearningRates { get; init => field = Checked(value, nameof(LearningRates), positive: true); } = LogSpace(-3, 0, 20);

    /// <summary>Noise levels sigma of the multiplicative gradient noise (default 0, 0.5, ..., 3).</summary>
    public IReadOnlyList<double> NoiseLevels { get; init => field = Checked(value, nameof(NoiseLevels), positive: false); } = [0, 0.5, 1, 1.5, 2, 2.5, 3];

    /// <summary>Sharpnesses a (default 0.1, 1, 10, 100, 1000).</summary>
    public IReadOnlyList<double> Sharpnesses { get; init => field = Checked(value, nameof(Sharpnesses), positive: false); } = [0.1, 1, 10, 100, 1000];

    /// <summary>The optimizers compared (default all three).</summary>
    public IReadOnlyList<ValleyOptimizer> Optimizers
    {
        get;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(Optimizers));
            if (value.Count == 0) throw new ArgumentOutOfRangeException(nameof(Optimizers), value.Count, "At least one optimizer.");
            foreach (var optimizer in value)
            {
                if (!Enum.IsDefined(optimizer)) throw new ArgumentOutOfRangeException(nameof(Optimizers), optimizer, "Unknown optimizer.");
            }

            field = value.Distinct().ToArray();
        }
    } = [ValleyOptimizer.Adam, ValleyOptimizer.Signum, ValleyOptimizer.Focus];

    /// <summary>Weight decay for every optimizer (default 0; the paper's Fig. 2b uses 0.1).</summary>
    public double WeightDecay { get; init => field = double.IsFinite(value) && value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(WeightDecay), value, "Finite and non-negative."); }

    /// <summary>Where FOCUS applies the decay (default <see cref="FocusWeightDecayPlacement.Plain"/>, as the paper's toy script).</summary>
    public FocusWeightDecayPlacement FocusPlacement
    {
        get;
        init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(FocusPlacement), value, "Unknown placement.");
    } = FocusWeightDecayPlacement.Plain;

    /// <summary>c, the slope along the valley (default 0.1).</summary>
    public double Pull { get; init => field = double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(Pull), value, "Finite."); } = 0.1;

    /// <summary>The rotation angle in radians (default pi/6).</summary>
    public double Rotation { get; init => field = double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(Rotation), value, "Finite."); } = Math.PI / 6;

    /// <summary>Standard deviation of the initial point's coordinates around 0 (default 1e-4).</summary>
    public double InitialScale { get; init => field = double.IsFinite(value) && value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(InitialScale), value, "Finite and non-negative."); } = 1e-4;

    /// <summary><paramref name="count"/> values from 10^<paramref name="startExponent"/> to 10^<paramref name="endExponent"/>, evenly spaced in the exponent (numpy's logspace).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 1.</exception>
    public static double[] LogSpace(double startExponent, double endExponent, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (count == 1) return [Math.Pow(10, startExponent)];
        var values = new double[count];
        for (var index = 0; index < count; index++)
            values[index] = Math.Pow(10, startExponent + (endExponent - startExponent) * index / (count - 1));
        return values;
    }

    private static double[] Checked(IReadOnlyList<double>? values, string name, bool positive)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Count == 0) throw new ArgumentOutOfRangeException(name, values.Count, $"{name} needs at least one value.");
        foreach (var value in values)
        {
            if (!double.IsFinite(value) || value < 0 || (positive && value == 0))
                throw new ArgumentOutOfRangeException(name, value, $"Every value of {name} must be finite and {(positive ? "positive" : "non-negative")}.");
        }

        return [.. values];
    }
}
