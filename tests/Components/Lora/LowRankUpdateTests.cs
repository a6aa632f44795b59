using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Lora;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Lora;

[TestClass]
public sealed class LowRankUpdateTests
{
    [TestMethod]
    [DataRow(1, 1, 1, 1)]
    [DataRow(7, 5, 9, 3)]
    [DataRow(130, 33, 67, 5)]
    [DataRow(64, 256, 768, 8)]
    [DataRow(97, 40, 19, 9)]
    public void FastKernelMatchesTheReferenceOnOddShapes(int rows, int inChannels, int outChannels, int rank)
    {
        var input = GradientCheck.RandomArray(rows * inChannels, 1);
        var down = GradientCheck.RandomArray(rank * inChannels, 2);
        var up = GradientCheck.RandomArray(outChannels * rank, 3);
        var start = GradientCheck.RandomArray(rows * outChannels, 4);
        var outputGradient = GradientCheck.RandomArray(rows * outChannels, 5);
        const float scale = 0.75f;

        var (fast, reference) = ((float[])start.Clone(), (float[])start.Clone());
        var (fastHidden, referenceHidden) = (new float[rows * rank], new float[rows * rank]);
        LowRankUpdate.Forward(input, down, up, scale, fastHidden, fast, rows, inChannels, outChannels, rank, new Parallelism(2));
        LowRankUpdate.Reference.Forward(input, down, up, scale, referenceHidden, reference, rows, inChannels, outChannels, rank);
        GradientCheck.AssertClose(reference, fast, "output", relative: 1e-4, absolute: 1e-4);

        float[] Seeded(int length, int seed) => GradientCheck.RandomArray(length, seed, 0.1f);
        var (fastInput, referenceInput) = (Seeded(rows * inChannels, 6), Seeded(rows * inChannels, 6));
        var (fastDown, referenceDown) = (Seeded(rank * inChannels, 7), Seeded(rank * inChannels, 7));
        var (fastUp, referenceUp) = (Seeded(outChannels * rank, 8), Seeded(outChannels * rank, 8));
        LowRankUpdate.Backward(outputGradient, input, down, up, scale, fastHidden, new float[rows * rank], fastInput, fastDown, fastUp, rows, inChannels, outChannels, rank, new Parallelism(2));
        LowRankUpdate.Reference.Backward(outputGradient, input, down, up, scale, referenceHidden, new float[rows * rank], referenceInput, referenceDown, referenceUp, rows, inChannels, outChannels, rank);
        // ∂A sums rows of ∂hidden (each a float sum over OC terms) that largely cancel: on the step's shapes the reference's
        // sequential float sums and the blocked vector sums part by a few 1e-4 in absolute terms.
        var absolute = (long)rows * Math.Max(inChannels, outChannels) > 10_000 ? 1e-3 : 1e-4;
        GradientCheck.AssertClose(referenceInput, fastInput, "input gradient", relative: 1e-4, absolute: absolute);
        GradientCheck.AssertClose(referenceDown, fastDown, "A gradient", relative: 1e-4, absolute: absolute);
        GradientCheck.AssertClose(referenceUp, fastUp, "B gradient", relative: 1e-4, absolute: absolute);
    }

    [TestMethod]
    [DataRow(200, 72, 131, 8)]
    [DataRow(97, 40, 19, 9)]
    public void ResultsAreBitIdenticalAcrossThreadCounts(int rows, int inChannels, int outChannels, int rank)
    {
        var input = GradientCheck.RandomArray(rows * inChannels, 11);
        var down = GradientCheck.RandomArray(rank * inChannels, 12);
        var up = GradientCheck.RandomArray(outChannels * rank, 13);
        var outputGradient = GradientCheck.RandomArray(rows * outChannels, 14);
        float[][] Run(int threads)
        {
            var (output, hidden) = (GradientCheck.RandomArray(rows * outChannels, 15), new float[rows * rank]);
            var (inputGradient, downGradient, upGradient) = (new float[rows * inChannels], new float[rank * inChannels], new float[outChannels * rank]);
            LowRankUpdate.Forward(input, down, up, 0.5f, hidden, output, rows, inChannels, outChannels, rank, new Parallelism(threads));
            LowRankUpdate.Backward(outputGradient, input, down, up, 0.5f, hidden, new float[rows * rank], inputGradient, downGradient, upGradient,
                rows, inChannels, outChannels, rank, new Parallelism(threads));
            return [output, hidden, inputGradient, downGradient, upGradient];
        }

        var (one, two, three) = (Run(1), Run(2), Run(3));
        for (var tensor = 0; tensor < one.Length; tensor++)
        {
            CollectionAssert.AreEqual(one[tensor], two[tensor], $"tensor {tensor}, 1 vs 2 threads");
            CollectionAssert.AreEqual(one[tensor], three[tensor], $"tensor {tensor}, 1 vs 3 threads");
        }

        Assert.IsTrue(one[3].Any(value => value != 0f), "the A gradient is not all zero");
    }

    [TestMethod]
    public void BackwardMatchesFiniteDifferences()
    {
        const int rows = 4, inChannels = 5, outChannels = 3, rank = 2;
        const float scale = 1.5f;
        var input = GradientCheck.RandomArray(rows * inChannels, 11);
        var down = GradientCheck.RandomArray(rank * inChannels, 12);
        var up = GradientCheck.RandomArray(outChannels * rank, 13);
        var weights = GradientCheck.RandomArray(rows * outChannels, 14);
        double Loss()
        {
            var output = new float[rows * outChannels];
            LowRankUpdate.Forward(input, down, up, scale, new float[rows * rank], output, rows, inChannels, outChannels, rank, Parallelism.Sequential);
            return GradientCheck.Dot(output, weights);
        }

        var hidden = new float[rows * rank];
        LowRankUpdate.Forward(input, down, up, scale, hidden, new float[rows * outChannels], rows, inChannels, outChannels, rank, Parallelism.Sequential);
        var (inputGradient, downGradient, upGradient) = (new float[input.Length], new float[down.Length], new float[up.Length]);
        LowRankUpdate.Backward(weights, input, down, up, scale, hidden, new float[rows * rank], inputGradient, downGradient, upGradient, rows, inChannels, outChannels, rank, Parallelism.Sequential);
        GradientCheck.AssertClose(GradientCheck.Numerical(Loss, input), inputGradient, "input");
        GradientCheck.AssertClose(GradientCheck.Numerical(Loss, down), downGradient, "A");
        GradientCheck.AssertClose(GradientCheck.Numerical(Loss, up), upGradient, "B");
    }

    [TestMethod]
    public void ShapeMismatchesNameTheArgument()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            LowRankUpdate.Forward(new float[6], new float[5], new float[6], 1f, new float[4], new float[6], 2, 3, 3, 2, Parallelism.Sequential));
        Assert.AreEqual("down", error.ParamName);
        var rank = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            LowRankUpdate.Forward(new float[6], [], [], 1f, [], new float[6], 2, 3, 3, 0, Parallelism.Sequential));
        Assert.AreEqual("rank", rank.ParamName);
    }
}
