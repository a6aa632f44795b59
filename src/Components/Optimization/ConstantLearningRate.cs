using Pipelines.Components.Schedules;

namespace Pipelines.Components.Optimization;

/// <summary>The same rate at every step; what the alias overloads taking a number use.</summary>
internal sealed class ConstantLearningRate : ISchedule
{
    /// <summary>Creates the schedule; <paramref name="name"/> is the option reported if the rate is bad.</summary>
    public ConstantLearningRate(double rate, string name = "learningRate") => Rate = OptionGuard.NonNegative(rate, name);

    /// <summary>The rate.</summary>
    public double Rate { get; }

    /// <inheritdoc />
    public double ValueAt(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return Rate;
    }

    /// <inheritdoc />
    public override string ToString() => $"constant {Rate}";
}
