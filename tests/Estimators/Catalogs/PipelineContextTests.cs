namespace Pipelines.Estimators.Tests.Catalogs;

[TestClass]
public sealed class PipelineContextTests
{
    [TestMethod]
    public void DerivedSeedsArePureFunctionsOfSeedAndPurpose()
    {
        var context = new PipelineContext(7);

        Assert.AreEqual(context.DeriveSeed("a"), new PipelineContext(7).DeriveSeed("a"));
        Assert.AreNotEqual(context.DeriveSeed("a"), context.DeriveSeed("b"));
        Assert.AreNotEqual(context.DeriveSeed("a"), new PipelineContext(8).DeriveSeed("a"));
        Assert.AreEqual(context.DeriveSeed("Text/x"), context.Text.DeriveSeed("x"));
        Assert.AreNotEqual(context.Text.DeriveSeed("x"), context.Lora.DeriveSeed("x"));
        Assert.AreEqual(context.CreateRandom("r").Next(), new PipelineContext(7).CreateRandom("r").Next());
    }

    [TestMethod]
    public void DerivedSeedsAreNonNegativeAndSpread()
    {
        var context = new PipelineContext(0);
        var seeds = Enumerable.Range(0, 1000).Select(index => context.DeriveSeed($"purpose{index}")).ToList();

        Assert.IsTrue(seeds.All(seed => seed >= 0));
        Assert.AreEqual(1000, seeds.Distinct().Count());
    }

    [TestMethod]
    public void EveryCatalogHoldsTheContext()
    {
        var context = new PipelineContext(3);
        PipelineCatalog[] catalogs =
        [
            context.Data, context.Transforms, context.Text, context.Pretraining, context.FineTuning, context.Model,
            context.Optimizers, context.Schedules, context.Sparsity, context.Lora, context.Privacy,
        ];

        Assert.IsTrue(catalogs.All(catalog => ReferenceEquals(catalog.Context, context)));
        Assert.AreEqual(catalogs.Length, catalogs.Select(catalog => catalog.Name).Distinct().Count());
        Assert.AreEqual(3, context.Seed);
        Assert.IsNotNull(context.LoggerFactory);
    }

    [TestMethod]
    public void NullSeedIsDrawnAndReadable()
    {
        var context = new PipelineContext();
        Assert.IsGreaterThanOrEqualTo(0, context.Seed);
        Assert.AreEqual(new PipelineContext(context.Seed).DeriveSeed("x"), context.DeriveSeed("x"));
    }
}
