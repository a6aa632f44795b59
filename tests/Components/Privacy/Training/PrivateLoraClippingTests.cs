using Pipelines.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Lora;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Privacy;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Tests.Privacy.Training;

/// <summary>
/// Private LoRA: the batched, padded clipped sum of the adapter's A and B and the head against brute force (one backward
/// pass per example at batch size one, unpadded), and a private run that moves only the adapter and the head.
/// </summary>
[TestClass]
public sealed class PrivateLoraClippingTests
{
    private static readonly TransformerConfig Tiny = ModelPerExampleClippingTests.Tiny;

    private static readonly LoraInjectionPlan Plan = new(
    [
        new LoraLayerPlan(0, 2, 4, [LoraProjection.Qkv, LoraProjection.Contract]),
        new LoraLayerPlan(1, 3, 5, LoraProjections.All),
    ]);

    private static bool IsHead(ParameterSlice parameter) => parameter.Name.StartsWith("head.", StringComparison.Ordinal);

    /// <summary>A model with the adapter attached (head trainable, the rest frozen) and B filled at random, so dA is not zero.</summary>
    private static (EncoderClassifier Model, LoraModel Lora, LoraAdapter Adapter) Attach(int seed)
    {
        var model = EncoderClassifier.Create(Tiny, classCount: 3, seed: 5, new Parallelism(2));
        var lora = new LoraModel(model, IsHead);
        var adapter = lora.Add("private", Plan, seed: 9);
        var random = new Random(seed);
        foreach (var module in adapter.Modules)
        {
            var up = adapter.Parameters.ValuesOf(module.Up);
            for (var index = 0; index < up.Length; index++) up[index] = (float)(random.NextDouble() - 0.5);
        }

        return (model, lora, adapter);
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void TheClippedSumOfAdapterAndHeadMatchesOneBackwardPerExampleWithPadding(bool perGroup)
    {
        var (model, _, adapter) = Attach(seed: 3);
        var data = ModelPerExampleClippingTests.EncoderData(count: 8, seed: 13);
        var examples = new[] { 2, 7, 0, 5, 4, 1 }; // lengths differ: the batch is padded
        var baseGradients = new List<float[]>();
        var adapterGradients = new List<float[]>();
        foreach (var example in examples)
        {
            model.Parameters.ZeroGradients();
            adapter.Parameters.ZeroGradients();
            var sequence = data.Sequences[example];
            model.Forward(sequence, ReadOnlySpan<byte>.Empty, [data.Labels[example]], 1, sequence.Length);
            model.Backward();
            baseGradients.Add(model.Parameters.Gradients.ToArray());
            adapterGradients.Add(adapter.Parameters.Gradients.ToArray());
        }

        Func<ParameterSlice, int> groupOf = perGroup ? ModelPerExampleClippingTests.LayerGroup : _ => 0;
        var groupCount = perGroup ? 1 + Tiny.LayerCount : 1;
        var trainableBase = model.Parameters.Parameters.Where(model.IsTrainable).ToList();
        CollectionAssert.AreEquivalent(new[] { "head.weight", "head.bias" }, trainableBase.Select(parameter => parameter.Name).ToArray());
        var norms = new double[examples.Length][];
        for (var row = 0; row < examples.Length; row++)
        {
            var squares = new double[groupCount];
            foreach (var parameter in trainableBase)
                foreach (var value in baseGradients[row].AsSpan(parameter.Range)) squares[groupOf(parameter)] += (double)value * value;
            foreach (var parameter in adapter.Parameters.Parameters)
                foreach (var value in adapterGradients[row].AsSpan(parameter.Range)) squares[groupOf(parameter)] += (double)value * value;
            norms[row] = squares.Select(Math.Sqrt).ToArray();
        }

        Assert.IsTrue(norms.All(row => row.All(norm => norm > 0)), "every group has a gradient in every example");
        // Clip at each group's median norm, so some examples are clipped and some are not.
        var clipNorms = Enumerable.Range(0, groupCount).Select(group => norms.Select(row => row[group]).Order().ElementAt(norms.Length / 2)).ToArray();
        var expectedBase = new double[model.Parameters.Values.Length];
        var expectedAdapter = new double[adapter.Parameters.Values.Length];
        var expectedClipped = 0;
        for (var row = 0; row < examples.Length; row++)
        {
            var factors = Enumerable.Range(0, groupCount).Select(group => ClippedGradientSum.ClipFactor(norms[row][group], clipNorms[group])).ToArray();
            expectedClipped += factors.Any(factor => factor < 1) ? 1 : 0;
            foreach (var parameter in trainableBase)
                for (var index = parameter.Range.Start.Value; index < parameter.Range.End.Value; index++)
                    expectedBase[index] += factors[groupOf(parameter)] * baseGradients[row][index];
            foreach (var parameter in adapter.Parameters.Parameters)
                for (var index = parameter.Range.Start.Value; index < parameter.Range.End.Value; index++)
                    expectedAdapter[index] += factors[groupOf(parameter)] * adapterGradients[row][index];
        }

        var groups = ClippingGroups.PerGroup(clipNorms, groupOf);
        var clipping = new PrivateLoraClipping(adapter, groups);
        model.Parameters.ZeroGradients();
        adapter.Parameters.ZeroGradients();
        clipping.Clear();
        var report = new EncoderPerExampleClipping(model, groups, data, clipping).AddClippedGradients(examples);
        clipping.CopySumToGradients();

        Assert.AreEqual(expectedClipped, report.ClippedCount, "clipped examples");
        Assert.IsTrue(report.ClippedCount > 0 && report.ClippedCount < examples.Length, "the test should clip some examples and not others");
        for (var row = 0; row < examples.Length; row++)
        for (var group = 0; group < groupCount; group++)
        {
            var (bruteForce, actual) = (norms[row][group], report.GroupNorms[row * groupCount + group]);
            Assert.IsTrue(Math.Abs(actual - bruteForce) <= 1e-5 * bruteForce, $"example {row} group {group}: batched norm {actual:R}, brute force {bruteForce:R}");
        }

        foreach (var parameter in trainableBase)
            AssertRelativeClose(expectedBase.AsSpan(parameter.Range), model.Parameters.GradientsOf(parameter), parameter.Name);
        foreach (var parameter in adapter.Parameters.Parameters)
            AssertRelativeClose(expectedAdapter.AsSpan(parameter.Range), adapter.Parameters.GradientsOf(parameter), parameter.Name);
        foreach (var frozen in model.Parameters.Parameters.Where(parameter => !model.IsTrainable(parameter)))
            Assert.IsTrue(model.Parameters.GradientsOf(frozen).ToArray().All(value => value == 0), $"frozen {frozen.Name} received a gradient");
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void APrivateLoraRunMovesEveryAdapterTensorAndTheHeadAndNoFrozenWeight(bool rldp)
    {
        var (model, lora, adapter) = Attach(seed: 4);
        var baseBefore = model.Parameters.Values.ToArray();
        var adapterBefore = adapter.Parameters.Values.ToArray();
        var privacy = new DifferentialPrivacy(targetEpsilon: 4)
        {
            Delta = 1e-3, Randomness = NoiseRandomness.Seeded, Seed = 5, Clipping = ClippingLayout.PerLayer,
            Controller = rldp ? new RldpController { Interval = 2 } : PrivacyController.Fixed, // RLDP rebuilds the step, carrying the adapter's optimizer state
        };
        var options = new ClassifierTrainerOptions { BatchSize = 8, MaximumSequenceLength = 12, Steps = 6, Seed = 3 };
        var data = ModelPerExampleClippingTests.EncoderData(count: 64, seed: 8);

        var result = new PrivateClassifierTrainer(model, Optimizers.AdamW(1e-2), options, privacy) { Adapter = adapter }
            .Train(data, rldp ? ModelPerExampleClippingTests.EncoderData(count: 12, seed: 21) : null);

        Assert.AreEqual(6L, result.Training.Steps);
        Assert.IsTrue(result.Privacy.Epsilon is > 0 and <= 4, $"epsilon {result.Privacy.Epsilon}");
        foreach (var parameter in model.Parameters.Parameters)
        {
            var moved = !baseBefore.AsSpan(parameter.Range).SequenceEqual(model.Parameters.ValuesOf(parameter));
            Assert.AreEqual(IsHead(parameter), moved, $"{parameter.Name}: only the head trains among the base weights");
        }

        foreach (var parameter in adapter.Parameters.Parameters)
        {
            var before = adapterBefore.AsSpan(parameter.Range).ToArray();
            var after = adapter.Parameters.ValuesOf(parameter).ToArray();
            Assert.IsTrue(before.Zip(after).All(pair => pair.First != pair.Second), $"{parameter.Name}: every entry moves under noise");
        }

        Assert.IsTrue(adapter.Parameters.Gradients.ToArray().All(value => value == 0), "the adapter's gradients are cleared after each step");
        lora.Detach();
    }

    [TestMethod]
    public void TheAdaptersNoiseHasStandardDeviationSigmaCOverQNFromAStreamOfItsOwn()
    {
        var (_, _, adapter) = Attach(seed: 5);
        var (sigma, clipNorm, samplingRate, datasetSize) = (2.0, 0.5, 0.1, 100);
        var groups = ClippingGroups.Flat(clipNorm);
        var options = new DifferentialPrivacyOptions(samplingRate) { NoiseMultiplier = sigma, Randomness = NoiseRandomness.Seeded, Seed = 7 };
        var update = PrivateLoraCanary.Update(new PrivateLoraClipping(adapter, groups), groups, options, datasetSize, new ScaleByLearningRate(1));
        var before = adapter.Parameters.Values.ToArray();
        update.BeginStep();
        update.EndStep(); // an empty batch: the update is the noise alone
        var noise = adapter.Parameters.Values.ToArray().Zip(before, (after, old) => (double)after - old).ToArray();

        var expected = sigma * clipNorm / (samplingRate * datasetSize);
        var deviation = Math.Sqrt(noise.Sum(value => value * value) / noise.Length);
        Assert.IsTrue(noise.Length > 1000, $"{noise.Length} adapter entries");
        Assert.IsTrue(Math.Abs(deviation / expected - 1) < 0.1, $"noise standard deviation {deviation:R}, expected sigma C / (q N) = {expected:R}");
        Assert.IsTrue(adapter.Parameters.Gradients.ToArray().All(value => value == 0), "gradients cleared");

        // The base parameters' noise stream (the options' own seed) over an arena of the same layout: noise shared with it would cancel in a difference.
        var twin = new LoraAdapter(Tiny, Plan, seed: 9);
        var twinBefore = twin.Parameters.Values.ToArray();
        new GradientTransformOptimizer(new Chain(PrivacyTransforms.NoisyAverage(groups, sigma, samplingRate, datasetSize, NoiseRandomness.Seeded, options.Seed),
            new ScaleByLearningRate(1)), twin.Parameters).Step(twin.Parameters);
        var baseNoise = twin.Parameters.Values.ToArray().Zip(twinBefore, (after, old) => (double)after - old).ToArray();
        var correlation = noise.Zip(baseNoise, (a, b) => a * b).Sum() / Math.Sqrt(noise.Sum(a => a * a) * baseNoise.Sum(b => b * b));
        Assert.IsTrue(Math.Abs(correlation) < 0.15, $"the adapter's noise correlates with the base stream: {correlation:F3}");
    }

    [TestMethod]
    public void TheAdapterCanaryFailsNamingAnAdapterTensorThatDidNotMove()
    {
        var (_, _, adapter) = Attach(seed: 6);
        var before = adapter.Parameters.Values.ToArray();
        var still = Assert.ThrowsExactly<InvalidOperationException>(() => PrivateLoraCanary.Check(adapter, before, noiseMultiplier: 1));
        StringAssert.Contains(still.Message, "'blocks.0.qkv.lora_A.weight' did not move");
        StringAssert.Contains(still.Message, "No adapter parameter moved");

        var first = adapter.Modules[0];
        adapter.Parameters.ValuesOf(first.Up)[0] += 1; // only one B moved: fine without noise, a failure with noise
        PrivateLoraCanary.Check(adapter, before, noiseMultiplier: 0);
        var partly = Assert.ThrowsExactly<InvalidOperationException>(() => PrivateLoraCanary.Check(adapter, before, noiseMultiplier: 1));
        StringAssert.Contains(partly.Message, "'blocks.0.qkv.lora_A.weight' did not move");
        Assert.IsFalse(partly.Message.Contains("'blocks.0.qkv.lora_B.weight'", StringComparison.Ordinal), partly.Message);
    }

    [TestMethod]
    public void DropoutIsRefusedNamingTheValue()
    {
        var model = EncoderClassifier.Create(Tiny, classCount: 3, seed: 5, Parallelism.Sequential);
        var lora = new LoraModel(model, IsHead);
        var dropped = lora.Add("dropped", Plan with { Dropout = 0.1 }, seed: 9);
        var exception = Assert.ThrowsExactly<NotSupportedException>(() => new PrivateLoraClipping(dropped, ClippingGroups.Flat(1)));
        StringAssert.Contains(exception.Message, "Dropout is 0.1");
    }

    [TestMethod]
    public void AResumedPrivateLoraRunMatchesAnUninterruptedOneAndAnotherPlanIsRefused()
    {
        var path = Path.Combine(Path.GetTempPath(), $"private-lora-{Guid.NewGuid():N}.ckpt");
        var privacy = new DifferentialPrivacy(targetEpsilon: 4) { Delta = 1e-3, Randomness = NoiseRandomness.Seeded, Seed = 5 };
        var options = new ClassifierTrainerOptions { BatchSize = 8, MaximumSequenceLength = 12, Steps = 8, Seed = 3, CheckpointInterval = 3, CheckpointPath = path };
        var data = ModelPerExampleClippingTests.EncoderData(count: 64, seed: 8);
        PrivateClassifierTrainer Trainer(EncoderClassifier model, LoraAdapter adapter) => new(model, Optimizers.AdamW(1e-2), options, privacy) { Adapter = adapter };
        try
        {
            var (straightModel, _, straightAdapter) = Attach(seed: 4);
            var straight = Trainer(straightModel, straightAdapter).Train(data, null);

            using var cancellation = new CancellationTokenSource();
            var (interruptedModel, _, interruptedAdapter) = Attach(seed: 4);
            Assert.ThrowsExactly<OperationCanceledException>(() => Trainer(interruptedModel, interruptedAdapter)
                .Train(data, null, new SynchronousProgress<TrainingProgress>(report => { if (report.Step == 5) cancellation.Cancel(); }), cancellationToken: cancellation.Token));
            var (resumedModel, _, resumedAdapter) = Attach(seed: 4);
            resumedAdapter.Parameters.Values.Clear(); // the checkpoint must restore A and B
            var resumed = Trainer(resumedModel, resumedAdapter).Train(data, null, resumeFrom: path);

            Assert.AreEqual(3L, resumed.Training.StepsThisRun);
            Assert.AreEqual(straight.Privacy.Epsilon, resumed.Privacy.Epsilon, 0, "the accountant's history continued");
            CollectionAssert.AreEqual(straightAdapter.Parameters.Values.ToArray(), resumedAdapter.Parameters.Values.ToArray(), "bit-identical adapter");
            CollectionAssert.AreEqual(straightModel.Parameters.Values.ToArray(), resumedModel.Parameters.Values.ToArray(), "bit-identical base and head");

            var otherModel = EncoderClassifier.Create(Tiny, classCount: 3, seed: 5, Parallelism.Sequential);
            var other = new LoraModel(otherModel, IsHead).Add("other", LoraInjectionPlan.Uniform([0], rank: 2, alpha: 4, [LoraProjection.Qkv]), seed: 9);
            var exception = Assert.ThrowsExactly<RunChangedException>(() => Trainer(otherModel, other).Train(data, null, resumeFrom: path));
            StringAssert.Contains(exception.Message, "privacy.Adaptation");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertRelativeClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, string what)
    {
        double difference = 0, size = 0;
        for (var index = 0; index < expected.Length; index++)
        {
            difference += Math.Pow(actual[index] - expected[index], 2);
            size += expected[index] * expected[index];
        }

        Assert.IsTrue(size > 0, $"{what}: the expected gradient is zero");
        var relative = Math.Sqrt(difference / size);
        Assert.IsTrue(relative <= 1e-5, $"{what}: relative difference {relative:E2} exceeds 1e-5");
    }
}
