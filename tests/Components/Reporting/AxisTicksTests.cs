using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Reporting;

namespace Pipelines.Components.Tests.Reporting;

[TestClass]
public sealed class AxisTicksTests
{
    [TestMethod]
    [DataRow(0.0, 0.97, new[] { 0.0, 0.2, 0.4, 0.6, 0.8, 1.0 })]
    [DataRow(-3.2, 7.9, new[] { -4.0, -2, 0, 2, 4, 6, 8 })]
    [DataRow(0.0, 13.0, new[] { 0.0, 2, 4, 6, 8, 10, 12, 14 })]
    [DataRow(0.1, 0.3, new[] { 0.1, 0.15, 0.2, 0.25, 0.3 })]
    [DataRow(5.0, 5.0, new[] { 4.4, 4.6, 4.8, 5.0, 5.2, 5.4, 5.6 })]
    [DataRow(1200.0, 98000.0, new[] { 0.0, 20000, 40000, 60000, 80000, 100000 })]
    public void LinearTicksAreRound(double low, double high, double[] expected) =>
        CollectionAssert.AreEqual(expected, AxisTicks.Create(AxisScale.Linear, low, high).Ticks);

    [TestMethod]
    [DataRow(0.003, 42.0, new[] { 0.001, 0.01, 0.1, 1, 10, 100 })]
    [DataRow(2.0, 7.0, new[] { 2.0, 3, 4, 5, 6, 7 })]
    [DataRow(0.5, 8.0, new[] { 0.1, 0.2, 0.5, 1, 2, 5, 10 })]
    [DataRow(0.5, 30.0, new[] { 0.1, 1, 10, 100 })]
    [DataRow(1e-12, 1.0, new[] { 1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1 })]
    public void LogarithmicTicksAreDecadesOrMultiples(double low, double high, double[] expected) =>
        CollectionAssert.AreEqual(expected, AxisTicks.Create(AxisScale.Logarithmic, low, high).Ticks);

    [TestMethod]
    public void TheRangeCoversTheData()
    {
        var random = new Random(5);
        for (var trial = 0; trial < 500; trial++)
        {
            var low = (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-6, 7));
            var high = low + random.NextDouble() * Math.Pow(10, random.Next(-6, 7));
            var axis = AxisTicks.Create(AxisScale.Linear, low, high);
            Assert.IsTrue(axis.Minimum <= low && axis.Maximum >= high, $"[{low}, {high}] -> [{axis.Minimum}, {axis.Maximum}]");
            Assert.IsTrue(axis.Ticks.Length is >= 2 and <= 12, $"[{low}, {high}]: {axis.Ticks.Length} ticks");

            var positiveLow = Math.Abs(low) + 1e-9;
            var log = AxisTicks.Create(AxisScale.Logarithmic, positiveLow, positiveLow * (1 + random.NextDouble() * 1e4));
            Assert.IsTrue(log.Fraction(positiveLow) >= -1e-9 && log.Ticks.Length is >= 2 and <= 12);
        }
    }

    [TestMethod]
    [DataRow(0.0, "0")]
    [DataRow(0.25, "0.25")]
    [DataRow(1e-4, "1e-4")]
    [DataRow(2.5e-7, "2.5e-7")]
    [DataRow(1e6, "1e6")]
    [DataRow(-30000.0, "-30000")]
    public void FormatsTicksCompactly(double value, string expected) => Assert.AreEqual(expected, AxisTicks.Format(value));
}
