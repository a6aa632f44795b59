using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Sparsity;

[TestClass]
public sealed class PruningOptionsTests
{
    [TestMethod]
    [DataRow(nameof(PruningOptions.FinalSparsity), 1.0)]
    [DataRow(nameof(PruningOptions.FinalSparsity), -0.1)]
    [DataRow(nameof(PruningOptions.FinalSparsity), double.NaN)]
    [DataRow(nameof(PruningOptions.InitialSparsity), 0.6)]
    [DataRow(nameof(PruningOptions.InitialSparsity), -0.01)]
    [DataRow(nameof(PruningOptions.StartFraction), -0.1)]
    [DataRow(nameof(PruningOptions.StartFraction), 1.5)]
    [DataRow(nameof(PruningOptions.EndFraction), 0.2)]
    [DataRow(nameof(PruningOptions.EndFraction), 1.1)]
    [DataRow(nameof(PruningOptions.PruningInterval), 0.0)]
    [DataRow(nameof(PruningOptions.TotalSteps), 0.0)]
    [DataRow(nameof(PruningOptions.Criterion), 7.0)]
    [DataRow(nameof(PruningOptions.Schedule), 9.0)]
    public void BadOptionThrowsNamingTheOptionAndValue(string option, double value)
    {
        var valid = new PruningOptions { TotalSteps = 1000 };
        valid.Validate();
        var bad = option switch
        {
            nameof(PruningOptions.FinalSparsity) => valid with { FinalSparsity = value },
            nameof(PruningOptions.InitialSparsity) => valid with { InitialSparsity = value },
            nameof(PruningOptions.StartFraction) => valid with { StartFraction = value },
            nameof(PruningOptions.EndFraction) => valid with { EndFraction = value },
            nameof(PruningOptions.PruningInterval) => valid with { PruningInterval = (long)value },
            nameof(PruningOptions.TotalSteps) => valid with { TotalSteps = (long)value },
            nameof(PruningOptions.Criterion) => valid with { Criterion = (PruningCriterionKind)(int)value },
            _ => valid with { Schedule = (SparsityScheduleKind)(int)value },
        };

        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(bad.Validate);
        Assert.AreEqual(option, exception.ParamName);
        StringAssert.Contains(exception.Message, option is nameof(PruningOptions.Criterion) or nameof(PruningOptions.Schedule) ? ((int)value).ToString() : value.ToString());

        var builder = new ParameterArenaBuilder();
        builder.Add("w", ParameterRole.LinearWeight, 2, 2);
        var arena = builder.Build();
        Assert.AreEqual(option, Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GradualPruner(arena, bad)).ParamName, "the pruner validates too");
    }

    [TestMethod]
    public void DefaultsAreThePapers()
    {
        var options = new PruningOptions { TotalSteps = 1000 };
        Assert.AreEqual(0, options.InitialSparsity);
        Assert.AreEqual(0.25, options.StartFraction);
        Assert.AreEqual(0.75, options.EndFraction);
        Assert.AreEqual(PruningCriterionKind.Layerwise, options.Criterion);
        Assert.AreEqual(SparsityScheduleKind.Cubic, options.Schedule);
        Assert.IsInstanceOfType<CubicSparsitySchedule>(options.CreateSchedule());
        Assert.IsInstanceOfType<LayerwiseMagnitudeCriterion>(options.CreateCriterion());
        Assert.IsInstanceOfType<GlobalMagnitudeCriterion>((options with { Criterion = PruningCriterionKind.Global }).CreateCriterion());
        var oneShot = (OneShotSparsitySchedule)(options with { Schedule = SparsityScheduleKind.OneShot }).CreateSchedule();
        Assert.AreEqual(250, oneShot.PruningStep);
    }
}
