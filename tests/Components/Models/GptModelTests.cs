using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Models;

[TestClass]
public sealed class GptModelTests
{
    private static readonly TransformerConfig Tiny = new(layerCount: 2, headCount: 3, channels: 6, contextLength: 5, vocabularySize: 7);

    [TestMethod]
    public void WholeModelGradientMatchesFiniteDifferences()
    {
        var model = GptModel.Create(Tiny, seed: 3, Parallelism.Sequential);
        RaiseWeights(model);
        int[] tokens = [1, 4, 6, 0, 2, 3, 3, 5];
        int[] targets = [4, 6, 0, 2, -1, 3, 5, 1];
        model.Parameters.ZeroGradients();
        model.Forward(tokens, targets, 2, 4);
        model.Backward();
        var analytic = model.Parameters.Gradients.ToArray();

        var values = model.Parameters.Values;
        foreach (var parameter in model.Parameters.Parameters)
        {
            var expected = new double[parameter.Length];
            for (var index = 0; index < parameter.Length; index++)
            {
                var position = parameter.Offset + index;
                var original = values[position];
                values[position] = original + 1e-2f;
                double plus = model.Forward(tokens, targets, 2, 4);
                values[position] = original - 1e-2f;
                double minus = model.Forward(tokens, targets, 2, 4);
                values[position] = original;
                expected[index] = (plus - minus) / 2e-2;
            }

            GradientCheck.AssertClose(expected, analytic.AsSpan(parameter.Offset, parameter.Length), parameter.Name, relative: 3e-2, absolute: 3e-3);
        }
    }

    [TestMethod]
    public void SameSeedAndThreadsGiveTheSameBits()
    {
        float[] Run()
        {
            var model = GptModel.Create(Tiny, seed: 11, new Parallelism(2));
            model.Forward([1, 2, 3, 4, 5], [2, 3, 4, 5, 6], 1, 5);
            model.Backward();
            return model.Parameters.Gradients.ToArray();
        }

        CollectionAssert.AreEqual(Run(), Run());
    }

    [TestMethod]
    public void FrozenParametersReceiveNoGradient()
    {
        var model = GptModel.Create(Tiny, seed: 5, Parallelism.Sequential);
        model.SetTrainable(parameter => !parameter.Name.StartsWith("blocks.0.", StringComparison.Ordinal));
        model.Forward([1, 2, 3], [2, 3, 4], 1, 3);
        model.Backward();
        var frozen = model.Parameters["blocks.0.qkv.weight"];
        Assert.IsTrue(model.Parameters.GradientsOf(frozen).ToArray().All(value => value == 0f));
        Assert.IsTrue(model.Parameters.GradientsOf(model.Parameters["blocks.1.qkv.weight"]).ToArray().Any(value => value != 0f));
        Assert.IsTrue(model.Stack.BlockInputGradient(0).ToArray().Any(value => value != 0f), "gradients still flow through a frozen block");
    }

    [TestMethod]
    public void BadInputIsRejectedWithTheArgumentNamed()
    {
        var model = GptModel.Create(Tiny, seed: 1, Parallelism.Sequential);
        var outOfVocabulary = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Forward([1, 7], [], 1, 2));
        Assert.AreEqual("tokens", outOfVocabulary.ParamName);
        var tooLong = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Forward(new int[6], [], 1, 6));
        Assert.AreEqual("tokenCount", tooLong.ParamName);
        var mismatched = Assert.ThrowsExactly<ArgumentException>(() => model.Forward(new int[5], [], 2, 3));
        Assert.AreEqual("tokens", mismatched.ParamName);
        var badTarget = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Forward([1, 2], [3, 9], 1, 2));
        Assert.AreEqual("targetTokens", badTarget.ParamName);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Forward([], [], 0, 2));
        Assert.ThrowsExactly<InvalidOperationException>(() => { model.Forward([1, 2], [], 1, 2); model.Backward(); });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TransformerConfig(channels: 10, headCount: 3));
    }

    [TestMethod]
    public void BlockDiagnosticsExposeHiddenStatesAndGradients()
    {
        var model = GptModel.Create(Tiny, seed: 2, Parallelism.Sequential);
        model.Forward([1, 2, 3, 4], [2, 3, 4, 5], 1, 4);
        model.Backward();
        Assert.AreEqual(4 * 6, model.Stack.BlockOutput(1).Length);
        CollectionAssert.AreEqual(model.Stack.BlockOutput(0).ToArray(), model.Stack.BlockInput(1).ToArray());
        var probabilities = model.Stack.Blocks[0].AttentionProbabilities;
        Assert.AreEqual(3 * 4 * 4, probabilities.Length);
        Assert.AreEqual(1f, probabilities[0], 1e-6f, "the first query sees only itself");
        Assert.AreEqual(0f, probabilities[1], "no attention to the future");
        Assert.IsTrue(model.Stack.BlockOutputGradient(1).ToArray().Any(value => value != 0f));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Stack.BlockInput(2).ToArray());
    }

    /// <summary>GPT-2's small initial weights make many gradients tiny; larger ones test every path.</summary>
    internal static void RaiseWeights(ITransformerModel model)
    {
        var random = new SeededRandom(99);
        foreach (var parameter in model.Parameters.Parameters)
        {
            var values = model.Parameters.ValuesOf(parameter);
            for (var index = 0; index < values.Length; index++) values[index] += (float)(0.3 * random.NextGaussian());
        }
    }
}
