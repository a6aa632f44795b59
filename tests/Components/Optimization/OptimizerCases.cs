using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;

namespace Pipelines.Components.Tests.Optimization;

/// <summary>A learning rate decaying linearly from <paramref name="peak"/> to <c>floor*peak</c> over <paramref name="steps"/> steps.</summary>
internal sealed class LinearDecay(double peak, long steps, double floor = 0.05) : ISchedule
{
    public double ValueAt(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        var progress = Math.Min(1.0, (double)step / steps);
        return peak * (1 - (1 - floor) * progress);
    }
}

/// <summary>One optimizer alias of the shared suite, with the learning rates it uses on each test problem.</summary>
/// <param name="Name">Shown in test names.</param>
/// <param name="Make">Builds the alias from a learning-rate schedule.</param>
/// <param name="ParabolaRate">Peak rate on the parabola.</param>
/// <param name="RosenbrockRate">Peak rate on Rosenbrock's function.</param>
/// <param name="ValleyRate">Rate on the narrowing valley.</param>
/// <param name="StateBuffers">How many arena-shaped buffers the state holds.</param>
internal sealed record OptimizerCase(string Name, Func<ISchedule, IGradientTransform> Make, double ParabolaRate, double RosenbrockRate, double ValleyRate, int StateBuffers)
{
    public override string ToString() => Name;
}

/// <summary>Every optimizer alias, so that every shared test runs over all of them.</summary>
internal static class OptimizerCases
{
    public static readonly OptimizerCase[] All =
    [
        new("Sgd", rate => Optimizers.Sgd(new SgdOptions(rate)), 0.3, 1.4e-3, 0.05, 0),
        new("SgdMomentum", rate => Optimizers.Sgd(new SgdOptions(rate) { Momentum = 0.9 }), 0.05, 1.4e-4, 0.01, 1),
        new("SgdNesterov", rate => Optimizers.Sgd(new SgdOptions(rate) { Momentum = 0.9, Nesterov = true }), 0.05, 1.4e-4, 0.01, 1),
        new("AdamW", rate => Optimizers.AdamW(new AdamWOptions(rate)), 0.05, 0.02, 0.01, 2),
        new("AdamWClipped", rate => Optimizers.AdamW(new AdamWOptions(rate) { ClipNorm = 1.0 }), 0.05, 0.02, 0.01, 2),
        new("Signum", rate => Optimizers.Signum(new SignumOptions(rate) { WeightDecay = 0.01 }), 0.05, 0.01, 0.01, 1),
        new("FocusBefore", rate => Focus(rate, FocusWeightDecayPlacement.TowardEmaBeforeStep), 0.05, 0.01, 0.01, 2),
        new("FocusAfter", rate => Focus(rate, FocusWeightDecayPlacement.TowardEmaAfterStep), 0.05, 0.01, 0.01, 2),
        new("FocusPlain", rate => Focus(rate, FocusWeightDecayPlacement.Plain), 0.05, 0.01, 0.01, 2),
    ];

    public static IEnumerable<object[]> Names => All.Select(item => new object[] { item.Name });

    public static OptimizerCase Named(string name) => All.Single(item => item.Name == name);

    private static IGradientTransform Focus(ISchedule rate, FocusWeightDecayPlacement placement) =>
        Optimizers.Focus(new FocusOptions(rate) { WeightDecay = 0.01, Placement = placement });
}
