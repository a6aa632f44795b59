using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Optimization;

/// <summary>
/// FOCUS's first two steps against a hand computation, with binary-exact hyperparameters:
/// lr 0.125, b1 0.5, b2 0.75 (so 1 - b2 = 0.25 and 1 - b2^2 = 0.4375), gamma 0.25, wd 0.5.
/// A [1, 4] weight (decays) and a [2] bias (never decays).
/// </summary>
[TestClass]
public sealed class FocusKnownAnswerTests
{
    private static readonly float[] InitialWeight = [0.5f, -1f, 0f, 2f];
    private static readonly float[] InitialBias = [1f, -0.5f];
    private static readonly float[][] WeightGradients = [[1f, -2f, 0f, 0.5f], [-3f, -1f, 2f, 0f]];
    private static readonly float[][] BiasGradients = [[-3f, 0f], [1f, 0f]];

    // Step 1: m = 0.5 g = [0.5, -1, 0, 0.25], sign(m) = [1, -1, 0, 1] (sign(0) = 0). pbar = 0.25 theta, phat = theta,
    // so the attraction is 0 unless the decay moved theta first. Decay -lr*wd*phat = -0.0625*theta.
    // Step 2: m = [-1.25, -1, 1, 0.125], sign = [-1, -1, 1, 1]; phat = pbar / 0.4375; attraction signs [-1, 1, 0, -1].
    // Bias: step 1 sign(m) = [-1, 0] -> [1.125, -0.5]; step 2 sign(m) = [-1, 0], attraction [1, 0] -> [1.21875, -0.5].
    private static readonly float[] BiasAfterOne = [1.125f, -0.5f];
    private static readonly float[] BiasAfterTwo = [1.21875f, -0.5f];

    [TestMethod]
    // After: u1 = -0.125 sign(m) - 0.0625 theta0; u2 = -0.125 (sign(m) + 0.25 a) - 0.0625 phat2,
    // phat2 = [0.1796875, -0.390625, 0, 0.8125] / 0.4375.
    [DataRow(FocusWeightDecayPlacement.TowardEmaAfterStep,
        new[] { 0.34375f, -0.8125f, 0f, 1.75f }, new[] { 0.474330357f, -0.662946429f, -0.125f, 1.540178571f })]
    // Plain: u = -0.125 (sign(m) + 0.25 a + 0.5 theta); equal to After at step 1 because phat1 = theta0.
    [DataRow(FocusWeightDecayPlacement.Plain,
        new[] { 0.34375f, -0.8125f, 0f, 1.75f }, new[] { 0.478515625f, -0.66796875f, -0.125f, 1.546875f })]
    // Before (paper): theta' = theta - 0.0625 phat; at step 1 theta' - phat = -0.0625 theta0, so the attraction is
    // -sign(theta0) = [-1, 1, 0, -1] already: u1 = -0.0625 theta0 - 0.125 (sign(m) + 0.25 a) = [-0.125, 0.15625, 0, -0.21875].
    // Step 2: pbar2 = [0.1875, -0.3984375, 0, 0.8203125], phat2 = [3/7, -0.910714286, 0, 1.875], a = [-1, 1, 0, -1].
    [DataRow(FocusWeightDecayPlacement.TowardEmaBeforeStep,
        new[] { 0.375f, -0.84375f, 0f, 1.78125f }, new[] { 0.504464286f, -0.693080357f, -0.125f, 1.5703125f })]
    public void FirstTwoStepsMatchHandComputation(FocusWeightDecayPlacement placement, float[] weightAfterOne, float[] weightAfterTwo)
    {
        var (arena, weight, bias) = MakeArena();
        var optimizer = new GradientTransformOptimizer(
            Optimizers.Focus(new FocusOptions(0.125) { Beta1 = 0.5, Beta2 = 0.75, Gamma = 0.25, WeightDecay = 0.5, Placement = placement }), arena);

        Step(optimizer, arena, weight, bias, 0);
        AssertValues(weightAfterOne, arena.ValuesOf(weight), $"{placement} weight after step 1");
        AssertValues(BiasAfterOne, arena.ValuesOf(bias), $"{placement} bias after step 1");

        Step(optimizer, arena, weight, bias, 1);
        AssertValues(weightAfterTwo, arena.ValuesOf(weight), $"{placement} weight after step 2");
        AssertValues(BiasAfterTwo, arena.ValuesOf(bias), $"{placement} bias after step 2");

        var state = optimizer.State.Find<ScaleByFocusState>()!;
        AssertValues([-1.25f, -1f, 1f, 0.125f], state.Momentum.AsSpan(weight.Range), "momentum after step 2");
        Assert.AreEqual(0.125, state.LastLearningRate);
        Assert.AreEqual(placement, state.Placement);
    }

    [TestMethod]
    [DataRow(FocusWeightDecayPlacement.TowardEmaBeforeStep)]
    [DataRow(FocusWeightDecayPlacement.TowardEmaAfterStep)]
    [DataRow(FocusWeightDecayPlacement.Plain)]
    public void WithoutDecayTheFirstStepIsPlainSignMomentum(FocusWeightDecayPlacement placement)
    {
        // At t = 1, phat = theta exactly, so the attraction is 0 for every element (checked with awkward values
        // whose (1 - b2) * theta / (1 - b2) would not round-trip in float).
        var builder = new ParameterArenaBuilder();
        var weight = builder.Add("weight", ParameterRole.LinearWeight, 3, 11);
        var arena = builder.Build();
        var values = Support.GradientCheck.RandomArray(weight.Length, seed: 3);
        var gradients = Support.GradientCheck.RandomArray(weight.Length, seed: 4);
        gradients[5] = 0;
        values.CopyTo(arena.ValuesOf(weight));
        gradients.CopyTo(arena.GradientsOf(weight));
        var optimizer = new GradientTransformOptimizer(Optimizers.Focus(new FocusOptions(0.01) { Beta2 = 0.99, Gamma = 0.7, Placement = placement }), arena);

        optimizer.Step(arena);

        for (var index = 0; index < weight.Length; index++)
        {
            var expected = values[index] - 0.01f * Math.Sign(gradients[index]);
            Assert.AreEqual(expected, arena.ValuesOf(weight)[index], 1e-7f, $"element {index}");
        }
    }

    [TestMethod]
    public void FocusWithoutAttractionOrAverageIsSignumBitForBit()
    {
        var signum = new TestProblems.Parabola();
        var focus = new TestProblems.Parabola();
        var signumOptimizer = new GradientTransformOptimizer(Optimizers.Signum(new SignumOptions(0.03) { Beta1 = 0.8, WeightDecay = 0.3 }), signum.Arena);
        var focusOptimizer = new GradientTransformOptimizer(
            Optimizers.Focus(new FocusOptions(0.03) { Beta1 = 0.8, Beta2 = 0, Gamma = 0, WeightDecay = 0.3, Placement = FocusWeightDecayPlacement.Plain }), focus.Arena);

        for (var step = 0; step < 25; step++)
        {
            signum.Evaluate(new Random(step), 1.0);
            focus.Evaluate(new Random(step), 1.0);
            signumOptimizer.Step(signum.Arena);
            focusOptimizer.Step(focus.Arena);
        }

        CollectionAssert.AreEqual(TestProblems.Bits(signum.Arena), TestProblems.Bits(focus.Arena));
    }

    private static (ParameterArena Arena, ParameterSlice Weight, ParameterSlice Bias) MakeArena()
    {
        var builder = new ParameterArenaBuilder();
        var weight = builder.Add("weight", ParameterRole.LinearWeight, 1, 4);
        var bias = builder.Add("bias", ParameterRole.LinearBias, 2);
        var arena = builder.Build();
        InitialWeight.CopyTo(arena.ValuesOf(weight));
        InitialBias.CopyTo(arena.ValuesOf(bias));
        return (arena, weight, bias);
    }

    private static void Step(GradientTransformOptimizer optimizer, ParameterArena arena, ParameterSlice weight, ParameterSlice bias, int step)
    {
        WeightGradients[step].CopyTo(arena.GradientsOf(weight));
        BiasGradients[step].CopyTo(arena.GradientsOf(bias));
        optimizer.Step(arena);
    }

    private static void AssertValues(float[] expected, ReadOnlySpan<float> actual, string what) =>
        Support.GradientCheck.AssertClose(expected, actual, what, relative: 1e-6, absolute: 1e-7);
}
