using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Privacy;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>
/// Batched per-example norms and clipped sums of the GPT and the encoder against brute force: one backward pass per
/// example at batch size one, unpadded, with the plain clipping of <see cref="ClippedGradientSum"/>.
/// </summary>
[TestClass]
public sealed class ModelPerExampleClippingTests
{
    internal const double Tolerance = 1e-5;
    internal static readonly TransformerConfig Tiny = new(layerCount: 2, headCount: 2, channels: 16, contextLength: 12, vocabularySize: 23);

    [TestMethod]
    [DataRow(false, false)]
    [DataRow(true, false)]
    [DataRow(false, true)]
    [DataRow(true, true)]
    public void GptMatchesOnePassPerExample(bool perGroup, bool freezeSome)
    {
        var model = GptModel.Create(Tiny, seed: 3, new Parallelism(2));
        if (freezeSome) model.SetTrainable(parameter => parameter.Name is not ("wpe.weight" or "blocks.0.ln1.weight" or "blocks.1.qkv.weight"));
        var sequences = GptSequences(count: 7, seed: 11);
        var examples = new[] { 6, 0, 3, 1, 5 }; // lengths differ: the batch is padded
        var perExample = examples.Select(example => GptGradient(model, sequences[example])).ToArray();

        AssertBatchedMatchesBruteForce(model.Parameters, model.IsTrainable, perExample, perGroup,
            groups => new GptPerExampleClipping(model, groups, sequences).AddClippedGradients(examples));
    }

    [TestMethod]
    [DataRow(false, false)]
    [DataRow(true, false)]
    [DataRow(false, true)]
    [DataRow(true, true)]
    public void EncoderMatchesOnePassPerExampleWithPadding(bool perGroup, bool freezeSome)
    {
        var model = EncoderClassifier.Create(Tiny, classCount: 3, seed: 5, new Parallelism(2));
        if (freezeSome) model.SetTrainable(parameter => parameter.Name is not ("wte.weight" or "blocks.1.ln2.bias" or "head.bias"));
        var data = EncoderData(count: 8, seed: 13);
        var examples = new[] { 2, 7, 0, 5, 4, 1 };
        var perExample = examples.Select(example => EncoderGradient(model, data.Sequences[example], data.Labels[example])).ToArray();

        AssertBatchedMatchesBruteForce(model.Parameters, model.IsTrainable, perExample, perGroup,
            groups => new EncoderPerExampleClipping(model, groups, data).AddClippedGradients(examples));
    }

    [TestMethod]
    public void EveryParametersNormMatchesOnePassPerExample()
    {
        var model = GptModel.Create(Tiny, seed: 8, Parallelism.Sequential);
        var sequences = GptSequences(count: 4, seed: 17);
        var bruteForce = sequences.Select(sequence => GptGradient(model, sequence)).ToArray();
        var clipping = new GptPerExampleClipping(model, ClippingGroups.Flat(1e9), sequences);
        clipping.AddClippedGradients([0, 1, 2, 3]);

        var squares = clipping.ParameterSquaredNorms;
        foreach (var parameter in model.Parameters.Parameters)
        for (var example = 0; example < sequences.Count; example++)
        {
            var expected = Math.Sqrt(bruteForce[example].AsSpan(parameter.Range).ToArray().Sum(value => (double)value * value));
            var actual = Math.Sqrt(squares[parameter.Index * sequences.Count + example]);
            Assert.IsTrue(Math.Abs(actual - expected) <= Tolerance * expected, $"{parameter.Name}, example {example}: batched {actual:R}, brute force {expected:R}");
        }
    }

    [TestMethod]
    public void ATrainableLayerWithoutATapIsRefused()
    {
        var model = GptModel.Create(Tiny, seed: 8, Parallelism.Sequential);
        var sequence = GptSequences(count: 1, seed: 1)[0];
        model.Forward(sequence.AsSpan(0, sequence.Length - 1), sequence.AsSpan(1), 1, sequence.Length - 1);
        model.Backward();
        var taps = model.PerExampleTaps();
        var withoutFirstLinear = taps with { Linears = taps.Linears.Skip(1).ToList() };
        var clipping = new TransformerClipping(model.Parameters, ClippingGroups.Flat(1));
        var trainable = model.Parameters.Parameters.Select(_ => true).ToArray();

        var exception = Assert.ThrowsExactly<InvalidOperationException>(() => clipping.Run(withoutFirstLinear, trainable, Parallelism.Sequential));
        StringAssert.Contains(exception.Message, "'blocks.0.qkv.weight' has no per-example support");
        trainable[model.Parameters["blocks.0.qkv.weight"].Index] = trainable[model.Parameters["blocks.0.qkv.bias"].Index] = false;
        clipping.Run(withoutFirstLinear, trainable, Parallelism.Sequential); // frozen: nothing to clip
        Assert.IsTrue(clipping.GroupNorms[0] > 0);
    }

    [TestMethod]
    public void ChunksOfOneBatchAddUpToTheWholeBatch()
    {
        var model = GptModel.Create(Tiny, seed: 4, Parallelism.Sequential);
        var sequences = GptSequences(count: 6, seed: 2);
        var clipping = new GptPerExampleClipping(model, ClippingGroups.Flat(0.05), sequences);
        model.Parameters.ZeroGradients();
        clipping.AddClippedGradients([0, 1, 2, 3, 4, 5]);
        var whole = model.Parameters.Gradients.ToArray();
        model.Parameters.ZeroGradients();
        clipping.AddClippedGradients([0, 1, 2]);
        clipping.AddClippedGradients([3, 4, 5]);
        AssertRelativeClose(whole, model.Parameters.Gradients.ToArray(), "chunked clipped sum");
    }

    internal static List<int[]> GptSequences(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(index => Enumerable.Range(0, 3 + (index * 5 % 10)).Select(_ => random.Next(Tiny.VocabularySize)).ToArray())
            .ToList();
    }

    internal static LabeledSequences EncoderData(int count, int seed)
    {
        var random = new Random(seed);
        var sequences = Enumerable.Range(0, count)
            .Select(index => Enumerable.Range(0, 2 + (index * 7 % 11)).Select(_ => random.Next(Tiny.VocabularySize)).ToArray())
            .ToList();
        return new LabeledSequences(sequences, Enumerable.Range(0, count).Select(index => index % 3).ToList());
    }

    /// <summary>Groups: the embeddings, final norm and head (0), then one per block.</summary>
    internal static int LayerGroup(ParameterSlice parameter) =>
        parameter.Name.StartsWith("blocks.", StringComparison.Ordinal) ? 1 + int.Parse(parameter.Name.Split('.')[1]) : 0;

    private static float[] GptGradient(GptModel model, int[] sequence)
    {
        model.Parameters.ZeroGradients();
        model.Forward(sequence.AsSpan(0, sequence.Length - 1), sequence.AsSpan(1), 1, sequence.Length - 1);
        model.Backward();
        return model.Parameters.Gradients.ToArray();
    }

    private static float[] EncoderGradient(EncoderClassifier model, int[] sequence, int label)
    {
        model.Parameters.ZeroGradients();
        model.Forward(sequence, ReadOnlySpan<byte>.Empty, [label], 1, sequence.Length);
        model.Backward();
        return model.Parameters.Gradients.ToArray();
    }

    private static void AssertBatchedMatchesBruteForce(
        ParameterArena arena, Func<ParameterSlice, bool> isTrainable, float[][] perExample, bool perGroup,
        Func<ClippingGroups, PerExampleClippingReport> batched)
    {
        var trainable = arena.Parameters.Where(isTrainable).ToList();
        Func<ParameterSlice, int> groupOf = perGroup ? LayerGroup : _ => 0;
        var groupCount = perGroup ? 1 + Tiny.LayerCount : 1;
        var norms = perExample.Select(gradient => GroupNorms(gradient, trainable, groupOf, groupCount)).ToArray();
        // Clip at each group's median norm, so some examples are clipped and some are not.
        var clipNorms = Enumerable.Range(0, groupCount).Select(group => norms.Select(row => row[group]).Order().ElementAt(norms.Length / 2)).ToArray();
        var groups = ClippingGroups.PerGroup(clipNorms, groupOf);

        var expected = new ClippedGradientSum(arena, groups, trainable);
        foreach (var gradient in perExample) expected.Add(gradient);
        arena.ZeroGradients();
        var report = batched(groups);

        Assert.AreEqual(perExample.Length, report.BatchSize);
        Assert.AreEqual(expected.ClippedCount, report.ClippedCount, "clipped examples");
        Assert.IsTrue(report.ClippedCount > 0 && report.ClippedCount < perExample.Length, "the test should clip some examples and not others");
        for (var example = 0; example < perExample.Length; example++)
        for (var group = 0; group < groupCount; group++)
        {
            var (bruteForce, actual) = (norms[example][group], report.GroupNorms[example * groupCount + group]);
            Assert.IsTrue(Math.Abs(actual - bruteForce) <= Tolerance * bruteForce, $"example {example} group {group}: batched norm {actual:R}, brute force {bruteForce:R}");
        }

        AssertRelativeClose(expected.Sum.ToArray(), arena.Gradients.ToArray(), "clipped sum");
        foreach (var frozen in arena.Parameters.Where(parameter => !isTrainable(parameter)))
            Assert.IsTrue(arena.GradientsOf(frozen).ToArray().All(value => value == 0), $"frozen {frozen.Name} received a gradient");
    }

    private static double[] GroupNorms(float[] gradient, IEnumerable<ParameterSlice> trainable, Func<ParameterSlice, int> groupOf, int groupCount)
    {
        var squares = new double[groupCount];
        foreach (var parameter in trainable)
            foreach (var value in gradient.AsSpan(parameter.Range)) squares[groupOf(parameter)] += (double)value * value;
        return squares.Select(Math.Sqrt).ToArray();
    }

    internal static void AssertRelativeClose(float[] expected, float[] actual, string what)
    {
        double difference = 0, size = 0;
        for (var index = 0; index < expected.Length; index++)
        {
            difference += Math.Pow((double)actual[index] - expected[index], 2);
            size += (double)expected[index] * expected[index];
        }

        Assert.IsTrue(size > 0, $"{what}: the expected vector is zero");
        var relative = Math.Sqrt(difference / size);
        Assert.IsTrue(relative <= Tolerance, $"{what}: relative difference {relative:E2} exceeds {Tolerance:E0}");
    }
}
