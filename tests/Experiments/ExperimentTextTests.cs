using Pipelines.Experiments;

namespace Pipelines.Experiments.Tests;

/// <summary>The reports' short learning rates and loss cells.</summary>
[TestClass]
public sealed class ExperimentTextTests
{
    [TestMethod]
    [DataRow(3e-4, "3e-4")]
    [DataRow(1e-3, "1e-3")]
    [DataRow(2.5e-3, "2.5e-3")]
    [DataRow(0.01, "1e-2")]
    [DataRow(0.09999999999, "1e-1")]
    public void RatesPrintShort(double rate, string expected) => Assert.AreEqual(expected, ExperimentText.Rate(rate));

    [TestMethod]
    [DataRow(4.12345, "4.1235")]
    [DataRow(double.NaN, "diverged")]
    [DataRow(double.PositiveInfinity, "diverged")]
    public void LossesPrintFourDecimalsOrDiverged(double loss, string expected) => Assert.AreEqual(expected, ExperimentText.Loss(loss));
}
