using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Models;

[TestClass]
public sealed class EncoderClassifierTests
{
    private static readonly TransformerConfig Tiny = new(layerCount: 2, headCount: 2, channels: 6, contextLength: 5, vocabularySize: 9);

    [TestMethod]
    public void WholeModelGradientMatchesFiniteDifferences()
    {
        var model = EncoderClassifier.Create(Tiny, classCount: 3, seed: 4, Parallelism.Sequential);
        GptModelTests.RaiseWeights(model);
        int[] tokens = [1, 4, 8, 0, 2, 3, 3, 5, 7, 7, 6, 1];
        byte[] mask = [1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0];
        int[] labels = [2, 0, 1];
        model.Parameters.ZeroGradients();
        model.Forward(tokens, mask, labels, 3, 4);
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
                double plus = model.Forward(tokens, mask, labels, 3, 4);
                values[position] = original - 1e-2f;
                double minus = model.Forward(tokens, mask, labels, 3, 4);
                values[position] = original;
                expected[index] = (plus - minus) / 2e-2;
            }

            GradientCheck.AssertClose(expected, analytic.AsSpan(parameter.Offset, parameter.Length), parameter.Name, relative: 3e-2, absolute: 3e-3);
        }
    }

    [TestMethod]
    public void PaddingDoesNotChangeTheResult()
    {
        var model = EncoderClassifier.Create(Tiny, classCount: 2, seed: 8, Parallelism.Sequential);
        GptModelTests.RaiseWeights(model);
        model.Forward([3, 1, 4], [1, 1, 1], [], 1, 3);
        var unpadded = model.Logits.ToArray();
        model.Forward([3, 1, 4, 8, 8], [1, 1, 1, 0, 0], [], 1, 5);
        var padded = model.Logits.ToArray();
        GradientCheck.AssertClose(unpadded, padded, "logits", relative: 1e-5, absolute: 1e-5);
        Assert.AreEqual(1f, model.Probabilities[0] + model.Probabilities[1], 1e-6f);
    }

    [TestMethod]
    public void BadInputIsRejectedWithTheArgumentNamed()
    {
        var model = EncoderClassifier.Create(Tiny, classCount: 2, seed: 1, Parallelism.Sequential);
        var badLabel = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Forward([1, 2], [1, 1], [2], 1, 2));
        Assert.AreEqual("inputLabels", badLabel.ParamName);
        var badMask = Assert.ThrowsExactly<ArgumentException>(() => model.Forward([1, 2], [1], [0], 1, 2));
        Assert.AreEqual("inputKeyMask", badMask.ParamName);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new EncoderClassifier(Tiny, classCount: 1, Parallelism.Sequential));
    }
}
