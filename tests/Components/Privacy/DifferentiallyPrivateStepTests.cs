using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Optimization;
using Pipelines.Components.Privacy;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>The DP-SGD step orchestrator: equal to the ghost-clipping route, exact on resume, secure mode.</summary>
[TestClass]
public sealed class DifferentiallyPrivateStepTests
{
    private static readonly DifferentialPrivacyOptions Seeded =
        new(0.125) { ClipNorm = 1, NoiseMultiplier = 1, Randomness = NoiseRandomness.Seeded, Seed = 5, Delta = 1e-5 };

    [TestMethod]
    public void PerExamplePassesEqualTheGhostClippingRoute()
    {
        var (arena, weight, bias, inputs, targets) = DpSgdLinearClassifierTests.MakeProblem();
        var dpStep = new DifferentiallyPrivateStep(arena, Seeded, DpSgdLinearClassifierTests.Examples, new ScaleByLearningRate(0.5));
        var (ghostArena, ghostWeight, ghostBias, _, _) = DpSgdLinearClassifierTests.MakeProblem();
        var sampler = new PoissonSampler(DpSgdLinearClassifierTests.Examples, 0.125);
        var ghostOptimizer = new GradientTransformOptimizer(
            new Chain(PrivacyTransforms.NoisyAverage(ClippingGroups.Flat(1), 1, 0.125, DpSgdLinearClassifierTests.Examples, NoiseRandomness.Seeded, seed: 5),
                new ScaleByLearningRate(0.5)),
            ghostArena);

        for (var step = 1; step <= 10; step++)
        {
            var report = dpStep.Run(example => DpSgdLinearClassifierTests.ComputeGhostClippedSum(arena, weight, bias, inputs, targets, [example], clip: false));
            var batch = sampler.SampleStep(5, step);
            ghostArena.ZeroGradients();
            DpSgdLinearClassifierTests.ComputeGhostClippedSum(ghostArena, ghostWeight, ghostBias, inputs, targets, batch);
            ghostOptimizer.Step(ghostArena);
            Assert.AreEqual(batch.Length, report.BatchSize, $"step {step}");
            Assert.AreEqual(step, report.Step);
        }

        Support.GradientCheck.AssertClose(ghostArena.Values, arena.Values, "parameters after 10 DP steps", relative: 1e-4, absolute: 1e-5);
        Assert.AreEqual(10L, dpStep.Accountant.TotalSteps);
        Assert.AreEqual(RdpAccountant.Compute(1, 0.125, 10, 1e-5).Epsilon, dpStep.PrivacySpent().Epsilon, 1e-12);
    }

    [TestMethod]
    public void ResumedRunContinuesBitForBit()
    {
        var (arena, weight, bias, inputs, targets) = DpSgdLinearClassifierTests.MakeProblem();
        Action<int> Gradient(Pipelines.Components.Tensors.ParameterArena target) =>
            example => DpSgdLinearClassifierTests.ComputeGhostClippedSum(target, weight, bias, inputs, targets, [example], clip: false);
        var uninterrupted = new DifferentiallyPrivateStep(arena, Seeded, DpSgdLinearClassifierTests.Examples, new ScaleByLearningRate(0.5));
        for (var step = 0; step < 10; step++) uninterrupted.Run(Gradient(arena));

        var (first, _, _, _, _) = DpSgdLinearClassifierTests.MakeProblem();
        var firstHalf = new DifferentiallyPrivateStep(first, Seeded, DpSgdLinearClassifierTests.Examples, new ScaleByLearningRate(0.5));
        for (var step = 0; step < 6; step++) firstHalf.Run(Gradient(first));
        using var optimizerState = new MemoryStream();
        using (var writer = new BinaryWriter(optimizerState, System.Text.Encoding.UTF8, leaveOpen: true)) firstHalf.Optimizer.SaveState(writer);
        var accountantJson = firstHalf.Accountant.ToJson();

        var (second, _, _, _, _) = DpSgdLinearClassifierTests.MakeProblem();
        first.Values.CopyTo(second.Values);
        var resumed = new DifferentiallyPrivateStep(second, Seeded, DpSgdLinearClassifierTests.Examples, new ScaleByLearningRate(0.5),
            accountant: RdpAccountant.FromJson(accountantJson));
        optimizerState.Position = 0;
        using (var reader = new BinaryReader(optimizerState)) resumed.Optimizer.LoadState(reader);
        for (var step = 0; step < 4; step++) resumed.Run(Gradient(second));

        CollectionAssert.AreEqual(arena.Values.ToArray(), second.Values.ToArray(), "same batches and same noise after the resume");
        Assert.AreEqual(uninterrupted.PrivacySpent().Epsilon, resumed.PrivacySpent().Epsilon);
    }

    [TestMethod]
    public void SecureModeSamplesAndNoisesWithoutASeed()
    {
        var (arena, weight, bias, inputs, targets) = DpSgdLinearClassifierTests.MakeProblem();
        var options = new DifferentialPrivacyOptions(0.125);
        var dpStep = new DifferentiallyPrivateStep(arena, options, DpSgdLinearClassifierTests.Examples, new ScaleByLearningRate(0.5));
        var sizes = new List<int>();
        for (var step = 0; step < 20; step++)
            sizes.Add(dpStep.Run(example => DpSgdLinearClassifierTests.ComputeGhostClippedSum(arena, weight, bias, inputs, targets, [example], clip: false)).BatchSize);

        Assert.AreEqual(32.0, sizes.Average(), 4 * Math.Sqrt(256 * 0.125 * 0.875 / 20), "mean Poisson batch size q N");
        Assert.IsTrue(sizes.Distinct().Count() > 3, "batch sizes vary");
        Assert.IsTrue(arena.Values.ToArray().Any(value => value != 0));
        Assert.ThrowsExactly<ArgumentException>(() => new DifferentiallyPrivateStep(arena, options with { Seed = 1 }, 256, new ScaleByLearningRate(0.1)));
        SubsampledGaussianRdpTests.AssertNames("Delta", 1e-5, () => new DifferentiallyPrivateStep(arena, options, 100_000, new ScaleByLearningRate(0.1)));
    }

    [TestMethod]
    public void FrozenSlicesGetNeitherGradientNorNoise()
    {
        var (arena, weight, bias, inputs, targets) = DpSgdLinearClassifierTests.MakeProblem();
        var dpStep = new DifferentiallyPrivateStep(arena, Seeded, DpSgdLinearClassifierTests.Examples, new ScaleByLearningRate(0.5), trainable: [weight]);
        for (var step = 0; step < 3; step++)
            dpStep.Run(example => DpSgdLinearClassifierTests.ComputeGhostClippedSum(arena, weight, bias, inputs, targets, [example], clip: false));

        Assert.IsTrue(arena.ValuesOf(bias).ToArray().All(value => value == 0), "the frozen bias did not move");
        Assert.IsTrue(arena.ValuesOf(weight).ToArray().Any(value => value != 0));
    }

    [TestMethod]
    public void SecureSamplerHasTheBinomialMean()
    {
        var sampler = new PoissonSampler(2000, 0.05);
        var sizes = Enumerable.Range(0, 200).Select(_ => sampler.SampleSecure().Length).ToArray();
        Assert.AreEqual(100.0, sizes.Average(), 5 * Math.Sqrt(2000 * 0.05 * 0.95 / 200));
    }
}
