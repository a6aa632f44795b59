using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Optimization;
using Pipelines.Components.Privacy;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>
/// DP-SGD end to end on a linear token classifier built from the engine's kernels: Poisson batches, ghost norms, ghost
/// clipping (scale the logits gradient, one backward), the noisy-average chain and the accountant.
/// </summary>
[TestClass]
public sealed class DpSgdLinearClassifierTests
{
    internal const int Examples = 256, Tokens = 3, Features = 6, Classes = 4;
    private const double ClipNorm = 1, NoiseMultiplier = 1, SamplingRate = 0.125, Delta = 1e-5;

    [TestMethod]
    public void GhostClippingEqualsClippingMaterialisedPerExampleGradients()
    {
        var (arena, weight, bias, inputs, targets) = MakeProblem();
        var batch = new PoissonSampler(Examples, SamplingRate).SampleStep(seed: 3, step: 1);
        Assert.IsTrue(batch.Length > 10);

        ComputeGhostClippedSum(arena, weight, bias, inputs, targets, batch);
        var ghostSum = arena.Gradients.ToArray();

        var reference = new ClippedGradientSum(arena, ClippingGroups.Flat(ClipNorm));
        foreach (var example in batch)
        {
            arena.ZeroGradients();
            ComputeGhostClippedSum(arena, weight, bias, inputs, targets, [example], clip: false);
            reference.Add(arena.Gradients);
        }

        Support.GradientCheck.AssertClose(reference.Sum, ghostSum, "sum of clipped per-example gradients", relative: 1e-5, absolute: 1e-6);
        Assert.IsTrue(reference.ClippedCount > 0, "the test needs some examples above the clip norm");
    }

    [TestMethod]
    public void NoisyTrainingLearnsAndTheAccountantReportsItsCost()
    {
        var (arena, weight, bias, inputs, targets) = MakeProblem();
        var sampler = new PoissonSampler(Examples, SamplingRate);
        var optimizer = new GradientTransformOptimizer(
            new Chain(PrivacyTransforms.NoisyAverage(ClippingGroups.Flat(ClipNorm), NoiseMultiplier, SamplingRate, Examples, NoiseRandomness.Seeded, seed: 8),
                new ScaleByLearningRate(0.5)),
            arena);
        var accountant = new RdpAccountant();
        var before = Accuracy(arena, weight, bias, inputs, targets);

        const int steps = 200;
        for (var step = 1; step <= steps; step++)
        {
            var batch = sampler.SampleStep(seed: 5, step);
            arena.ZeroGradients();
            ComputeGhostClippedSum(arena, weight, bias, inputs, targets, batch);
            optimizer.Step(arena);
            accountant.Step(NoiseMultiplier, SamplingRate);
        }

        var after = Accuracy(arena, weight, bias, inputs, targets);
        Assert.IsTrue(after > 0.8 && after > before + 0.3, $"accuracy {before:P0} -> {after:P0}");
        var spent = accountant.GetPrivacySpent(Delta, datasetSize: Examples);
        Assert.AreEqual(RdpAccountant.Compute(NoiseMultiplier, SamplingRate, steps, Delta).Epsilon, spent.Epsilon, 1e-9);
        Assert.IsTrue(spent.Epsilon is > 1 and < 20, spent.ToString());
    }

    /// <summary>Puts sum_i c_i g_i for the batch's examples (sum of token losses) into the arena's gradients.</summary>
    internal static void ComputeGhostClippedSum(
        ParameterArena arena, ParameterSlice weight, ParameterSlice bias, float[] inputs, int[] targets, int[] batch, bool clip = true)
    {
        var batchSize = batch.Length;
        if (batchSize == 0) return; // an empty batch contributes nothing; the noisy step still runs
        var rows = batchSize * Tokens;
        var input = new float[rows * Features];          // [B, T, IC]
        var rowTargets = new int[rows];                   // [B, T]
        for (var index = 0; index < batchSize; index++)
        {
            inputs.AsSpan(batch[index] * Tokens * Features, Tokens * Features).CopyTo(input.AsSpan(index * Tokens * Features));
            targets.AsSpan(batch[index] * Tokens, Tokens).CopyTo(rowTargets.AsSpan(index * Tokens));
        }

        var logits = new float[rows * Classes];           // [B, T, OC]
        var probabilities = new float[rows * Classes];
        var losses = new float[rows];
        var logitsGradient = new float[rows * Classes];
        Linear.Forward(input, arena.ValuesOf(weight), arena.ValuesOf(bias), logits, rows, Features, Classes, Parallelism.Sequential);
        SoftmaxCrossEntropy.Forward(logits, rowTargets, probabilities, losses, rows, Classes, Parallelism.Sequential);
        SoftmaxCrossEntropy.Backward(probabilities, rowTargets, Enumerable.Repeat(1f, rows).ToArray(), logitsGradient, rows, Classes, Parallelism.Sequential);

        if (clip)
        {
            var (weightNorms, biasNorms, factors) = (new double[batchSize], new double[batchSize], new double[batchSize]);
            GhostNorms.SquaredNorms(input, logitsGradient, weightNorms, biasNorms, batchSize, Tokens, Features, Classes);
            for (var index = 0; index < batchSize; index++)
                factors[index] = ClippedGradientSum.ClipFactor(Math.Sqrt(weightNorms[index] + biasNorms[index]), ClipNorm);
            GhostNorms.ScaleExamples(factors, logitsGradient, batchSize, Tokens * Classes);
        }

        Linear.Backward(logitsGradient, input, [], [], arena.GradientsOf(weight), arena.GradientsOf(bias), rows, Features, Classes, Parallelism.Sequential);
    }

    internal static (ParameterArena Arena, ParameterSlice Weight, ParameterSlice Bias, float[] Inputs, int[] Targets) MakeProblem()
    {
        var builder = new ParameterArenaBuilder();
        var weight = builder.Add("classifier.weight", ParameterRole.LinearWeight, Classes, Features);
        var bias = builder.Add("classifier.bias", ParameterRole.LinearBias, Classes);
        var arena = builder.Build();
        var inputs = Support.GradientCheck.RandomArray(Examples * Tokens * Features, seed: 21, scale: 2);
        var teacher = Support.GradientCheck.RandomArray(Classes * Features, seed: 22);
        var targets = new int[Examples * Tokens];
        for (var row = 0; row < targets.Length; row++)
        {
            var best = double.NegativeInfinity;
            for (var label = 0; label < Classes; label++)
            {
                var score = Support.GradientCheck.Dot(inputs.AsSpan(row * Features, Features), teacher.AsSpan(label * Features, Features));
                if (score > best) (best, targets[row]) = (score, label);
            }
        }

        return (arena, weight, bias, inputs, targets);
    }

    private static double Accuracy(ParameterArena arena, ParameterSlice weight, ParameterSlice bias, float[] inputs, int[] targets)
    {
        var rows = targets.Length;
        var logits = new float[rows * Classes];
        Linear.Forward(inputs, arena.ValuesOf(weight), arena.ValuesOf(bias), logits, rows, Features, Classes, Parallelism.Sequential);
        var correct = 0;
        for (var row = 0; row < rows; row++)
        {
            var scores = logits.AsSpan(row * Classes, Classes);
            if (System.Numerics.Tensors.TensorPrimitives.IndexOfMax(scores) == targets[row]) correct++;
        }

        return correct / (double)rows;
    }
}
