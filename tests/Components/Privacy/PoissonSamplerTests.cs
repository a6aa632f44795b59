using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Privacy;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>Poisson sampling's statistics over many seeded draws (deterministic), and the virtual-batch splitter.</summary>
[TestClass]
public sealed class PoissonSamplerTests
{
    [TestMethod]
    public void BatchSizeAndInclusionRatesMatchTheBinomial()
    {
        const int examples = 1000, draws = 2000;
        const double q = 0.03;
        var sampler = new PoissonSampler(examples, q);
        var inclusions = new int[examples];
        double sizeSum = 0, sizeSquares = 0;
        for (var step = 0; step < draws; step++)
        {
            var batch = sampler.SampleStep(seed: 42, step);
            sizeSum += batch.Length;
            sizeSquares += (double)batch.Length * batch.Length;
            foreach (var example in batch) inclusions[example]++;
        }

        var meanSize = sizeSum / draws;
        var sizeVariance = sizeSquares / draws - meanSize * meanSize;
        var binomialVariance = examples * q * (1 - q);
        Assert.AreEqual(sampler.ExpectedBatchSize, meanSize, 4 * Math.Sqrt(binomialVariance / draws), "mean batch size within 4 standard errors");
        Assert.AreEqual(binomialVariance, sizeVariance, 0.15 * binomialVariance, "batch-size variance is the binomial's (N q (1-q)), not 0 as for fixed batches");

        var perExampleSd = Math.Sqrt(draws * q * (1 - q));
        foreach (var count in inclusions)
            Assert.AreEqual(draws * q, count, 5.5 * perExampleSd, "every example's inclusion count within 5.5 sd");
        var overallRate = inclusions.Sum() / (double)(examples * draws);
        Assert.AreEqual(q, overallRate, 4 * Math.Sqrt(q * (1 - q) / (examples * draws)));
    }

    [TestMethod]
    public void ExamplesJoinIndependentlyAndBatchesCanBeEmpty()
    {
        const int draws = 20000;
        const double q = 0.05;
        var sampler = new PoissonSampler(20, q);
        int empty = 0, both = 0;
        for (var step = 0; step < draws; step++)
        {
            var batch = sampler.SampleStep(seed: 7, step);
            if (batch.Length == 0) empty++;
            if (batch.Contains(3) && batch.Contains(11)) both++;
        }

        var emptyProbability = Math.Pow(1 - q, 20);
        Assert.AreEqual(emptyProbability, empty / (double)draws, 4 * Math.Sqrt(emptyProbability * (1 - emptyProbability) / draws));
        Assert.AreEqual(q * q, both / (double)draws, 4 * Math.Sqrt(q * q * (1 - q * q) / draws), "co-inclusion is q^2");
    }

    [TestMethod]
    public void SameSeedAndStepGiveTheSameBatch()
    {
        var sampler = new PoissonSampler(500, 0.1);
        CollectionAssert.AreEqual(sampler.SampleStep(3, 17), sampler.SampleStep(3, 17));
        CollectionAssert.AreNotEqual(sampler.SampleStep(3, 17), sampler.SampleStep(3, 18));
        CollectionAssert.AreNotEqual(sampler.SampleStep(3, 17), sampler.SampleStep(4, 17));
        var batch = sampler.Sample(new SeededRandom(5));
        CollectionAssert.AreEqual(batch.Order().ToArray(), batch, "indices ascend");
        Assert.AreEqual(500, new PoissonSampler(500, 1).SampleStep(1, 1).Length, "q = 1 takes everyone");
    }

    [TestMethod]
    public void SamplerRejectsBadSettings()
    {
        SubsampledGaussianRdpTests.AssertNames("samplingRate", 0.0, () => _ = new PoissonSampler(10, 0));
        SubsampledGaussianRdpTests.AssertNames("samplingRate", 1.5, () => _ = new PoissonSampler(10, 1.5));
        Assert.AreEqual("exampleCount", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => _ = new PoissonSampler(0, 0.5)).ParamName);
    }

    [TestMethod]
    public void VirtualBatchesCoverTheBatchInOrderWithinTheSize()
    {
        var batch = new PoissonSampler(1000, 0.2).SampleStep(9, 0);
        foreach (var maximum in new[] { 1, 7, 64, batch.Length, batch.Length + 5 })
        {
            var chunks = VirtualBatches.Split(batch, maximum).ToList();
            Assert.AreEqual(VirtualBatches.ChunkCount(batch.Length, maximum), chunks.Count);
            Assert.IsTrue(chunks.All(chunk => chunk.Length is > 0 && chunk.Length <= maximum));
            CollectionAssert.AreEqual(batch, chunks.SelectMany(chunk => chunk.ToArray()).ToArray(), "the chunks are the batch, unchanged");
        }

        Assert.AreEqual(0, VirtualBatches.Split(Array.Empty<int>(), 8).Count());
        Assert.AreEqual(0, VirtualBatches.ChunkCount(0, 8));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => VirtualBatches.Split(batch, 0));
    }
}
