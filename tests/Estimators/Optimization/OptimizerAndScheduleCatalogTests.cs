using Microsoft.ML;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Tensors;

namespace Pipelines.Estimators.Tests.Optimization;

[TestClass]
public sealed class OptimizerAndScheduleCatalogTests
{
    private static ParameterArena Arena()
    {
        var builder = new ParameterArenaBuilder();
        builder.Add("layer.weight", ParameterRole.LinearWeight, 2, 3);
        builder.Add("layer.bias", ParameterRole.LinearBias, 2);
        return builder.Build();
    }

    [TestMethod]
    public void ExponentialWarmupStableDecayWorksWithoutAndWithAHalfLife()
    {
        var context = new MLContext(seed: 1);

        var derived = (WarmupStableDecaySchedule)context.Schedules().WarmupStableDecay(1e-3, 1000, decayShape: DecayShape.Exponential);
        var given = (WarmupStableDecaySchedule)context.Schedules().WarmupStableDecay(1e-3, 1000, decayShape: DecayShape.Exponential, halfLifeSteps: 7);
        var cycles = context.Schedules().WarmupStableDecaySimplified(1e-3, [100, 200], decayShape: DecayShape.Exponential, halfLifeSteps: 3);

        Assert.AreEqual(20, derived.Layout.HalfLifeSteps, "a tenth of the 200-step decay");
        Assert.AreEqual(7, given.Layout.HalfLifeSteps);
        Assert.AreEqual(3, cycles.HalfLifeSteps);
        Assert.AreEqual(0.0, derived.ValueAt(999), "the last step at the floor");
    }

    [TestMethod]
    public void EveryOptimizerEntryFollowsTheRunsSchedule()
    {
        var context = new MLContext(seed: 1);
        var schedule = context.Schedules().WarmupStableDecay(1e-2, totalSteps: 10, decayFraction: 0.5, warmupSteps: 2);
        foreach (var factory in new[] { context.Optimizers().AdamW(), context.Optimizers().Signum(), context.Optimizers().Focus(), context.Optimizers().Sgd(momentum: 0.9) })
        {
            var arena = Arena();
            var optimizer = new GradientTransformOptimizer(factory(schedule), arena);
            for (var step = 0; step < 10; step++)
            {
                Assert.AreEqual(schedule.ValueAt(step), optimizer.CurrentLearningRate, 1e-15, $"{factory(schedule)} at step {step}");
                arena.Gradients.Fill(0.5f);
                optimizer.Step(arena);
            }
        }
    }

    [TestMethod]
    public void OptionsOverloadsKeepEveryOptionButTheRate()
    {
        var context = new MLContext(seed: 1);
        var focus = context.Optimizers().Focus(FocusOptions.Gpt2(new ConstantSchedule(123))) (new ConstantSchedule(0.5));
        var state = new GradientTransformOptimizer(focus, Arena()).State.Find<ScaleByFocusState>();
        Assert.IsNotNull(state);
        Assert.AreEqual(0.2, state.Gamma);
        Assert.AreEqual(0.99, state.Beta2);
        Assert.AreEqual(0.5, state.LearningRate.ValueAt(0));
    }

    [TestMethod]
    public void SchedulesAreValidatedWithTheOptionNamed()
    {
        var context = new MLContext(seed: 1);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.Schedules().Constant(-1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.Schedules().WarmupStableDecay(1e-3, totalSteps: 100, decayFraction: 1.5));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.Schedules().WarmupStableDecaySimplified(1e-3, [200, 100]));
        var plan = context.Schedules().WarmupStableDecaySimplified(1e-3, [100, 200], decayFraction: 0.1);
        CollectionAssert.AreEqual(new long[] { 100, 200 }, plan.DecayedCheckpointSteps.ToArray());
    }
}
