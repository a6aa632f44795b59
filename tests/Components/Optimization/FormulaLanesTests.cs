using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Optimization;

/// <summary>
/// The vectorised update loops against the plain reference: each transform's Update (vector lanes, then a scalar tail)
/// gives the same bits as its Formula evaluated one float at a time, on slices shorter than, equal to and longer than a
/// vector, with exact zeros and negative zeros among the updates.
/// </summary>
[TestClass]
public sealed class FormulaLanesTests
{
    private delegate void Reference(long step, float[] updates, float[] values, float[][] state, ParameterSlice slice, TransformState transformState);

    public static IEnumerable<object[]> Cases()
    {
        var adam = new ScaleByAdam(0.9, 0.99, 1e-3);
        yield return Case("ScaleByAdam", adam, (step, u, _, s, slice, _) =>
        {
            var coefficients = adam.CoefficientsAt(step);
            Each(slice, i =>
            {
                var (first, second, update) = ScaleByAdam.Formula(new FloatValue(u[i]), new FloatValue(s[0][i]), new FloatValue(s[1][i]), coefficients);
                (s[0][i], s[1][i], u[i]) = (first.Value, second.Value, update.Value);
            });
        });
        yield return Case("ScaleByMomentum", new ScaleByMomentum(0.9), (_, u, _, s, slice, _) =>
            Each(slice, i => s[0][i] = u[i] = ScaleByMomentum.Formula(new FloatValue(u[i]), new FloatValue(s[0][i]), 0.9f, (float)(1 - 0.9)).Value));
        foreach (var nesterov in new[] { false, true })
        {
            yield return Case($"TraceMomentum nesterov {nesterov}", new TraceMomentum(0.9, nesterov), (_, u, _, s, slice, _) => Each(slice, i =>
            {
                var (trace, update) = TraceMomentum.Formula(new FloatValue(u[i]), new FloatValue(s[0][i]), 0.9f, nesterov);
                (s[0][i], u[i]) = (trace.Value, update.Value);
            }));
        }

        yield return Case("ScaleBySign", new ScaleBySign(), (_, u, _, _, slice, _) => Each(slice, i => u[i] = ScaleBySign.Formula(new FloatValue(u[i])).Value));
        yield return Case("AddDecayedWeights", new AddDecayedWeights(0.1), (_, u, v, _, slice, _) =>
            Each(slice, i => u[i] = AddDecayedWeights.Formula(new FloatValue(u[i]), new FloatValue(v[i]), 0.1f).Value));
        yield return Case("ScaleByLearningRate", new ScaleByLearningRate(0.01), (_, u, _, _, slice, _) =>
            Each(slice, i => u[i] = ScaleByLearningRate.Formula(new FloatValue(u[i]), (float)-0.01).Value));
        yield return Case("ClipByGlobalNorm", new ClipByGlobalNorm(0.5), (_, u, _, _, slice, state) =>
        {
            var clip = (ClipByGlobalNormState)state;
            Assert.IsTrue(clip.WasClipped, "the case must clip");
            Each(slice, i => u[i] = ClipByGlobalNorm.Formula(new FloatValue(u[i]), (float)clip.LastScale).Value);
        });
        foreach (var placement in Enum.GetValues<FocusWeightDecayPlacement>())
        {
            var focus = new ScaleByFocus(new Pipelines.Components.Schedules.ConstantSchedule(0.01), 0.9, 0.9, 0.2, 0.3, placement, Optimizers.DecayMatrices);
            yield return Case($"ScaleByFocus {placement}", focus, (step, u, v, s, slice, _) =>
            {
                var coefficients = focus.CoefficientsAt(step, 0.01);
                var weightDecay = focus.WeightDecayOf(slice);
                Each(slice, i =>
                {
                    var (momentum, average, update) = ScaleByFocus.Formula(
                        new FloatValue(u[i]), new FloatValue(v[i]), new FloatValue(s[0][i]), new FloatValue(s[1][i]), coefficients, weightDecay);
                    (s[0][i], s[1][i], u[i]) = (momentum.Value, average.Value, update.Value);
                });
            });
        }
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void VectorLanesGiveTheBitsOfTheScalarFormula(string name, IGradientTransform transform, Delegate reference)
    {
        var builder = new ParameterArenaBuilder();
        builder.Add("short.bias", ParameterRole.LinearBias, 3);     // a tail only
        builder.Add("exact.weight", ParameterRole.LinearWeight, 4, 4); // one AVX-512 vector, two AVX2 vectors
        builder.Add("odd.weight", ParameterRole.LinearWeight, 7, 11); // vectors and a tail
        var arena = builder.Build();
        var random = new Random(3);
        foreach (var slice in arena.Parameters)
        {
            foreach (ref var value in arena.ValuesOf(slice)) value = (float)(random.NextDouble() - 0.5);
        }

        var state = transform.Init(arena);
        var buffers = state.SelfAndDescendants().OfType<IParameterBufferState>().SelectMany(shaped => shaped.Buffers).ToArray();
        var updates = new float[arena.BufferLength];
        for (var step = 1L; step <= 3; step++)
        {
            foreach (var slice in arena.Parameters)
            {
                for (var index = slice.Offset; index < slice.Offset + slice.Length; index++)
                    updates[index] = (index % 5) switch { 0 => 0f, 1 => -0f, _ => (float)(random.NextDouble() - 0.5) };
            }

            var expected = updates.ToArray();
            var expectedState = buffers.Select(buffer => buffer.ToArray()).ToArray();
            var values = arena.Values.ToArray();
            transform.Update(updates, arena.Values, state, new UpdateContext(step, arena.Parameters));
            foreach (var slice in arena.Parameters) ((Reference)reference)(step, expected, values, expectedState, slice, state);

            AssertSameBits(expected, updates, $"{name} updates at step {step}");
            for (var buffer = 0; buffer < buffers.Length; buffer++) AssertSameBits(expectedState[buffer], buffers[buffer], $"{name} state buffer {buffer} at step {step}");
        }
    }

    private static object[] Case(string name, IGradientTransform transform, Reference reference) => [name, transform, reference];

    private static void Each(ParameterSlice slice, Action<int> action)
    {
        for (var index = slice.Offset; index < slice.Offset + slice.Length; index++) action(index);
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        for (var index = 0; index < expected.Length; index++)
        {
            if (BitConverter.SingleToInt32Bits(expected[index]) != BitConverter.SingleToInt32Bits(actual[index]))
                Assert.Fail($"{what}: element {index} is {actual[index]:R}, the scalar formula gives {expected[index]:R}.");
        }
    }
}
