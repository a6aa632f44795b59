using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Privacy;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>log-space arithmetic and log erfc against the golden file (Python's erfc, and the continued fraction in the tail).</summary>
[TestClass]
public sealed class LogSpaceTests
{
    [TestMethod]
    public void LogErfcMatchesTheGoldenValuesToNearDoublePrecision()
    {
        foreach (var item in PrivacyGolden.Cases("logErfc"))
        {
            var x = item.Number("x");
            var expected = item.Number("logErfc");
            var actual = LogSpace.LogErfc(x);
            var error = Math.Abs(actual - expected) / Math.Max(1, Math.Abs(expected));
            Assert.IsTrue(error < 1e-13, $"log erfc({x}): expected {expected:R}, got {actual:R} (error {error:E2})");
        }
    }

    [TestMethod]
    public void LogErfcIsContinuousWhereItSwitchesToTheAsymptoticSeries()
    {
        var threshold = LogSpace.AsymptoticThreshold;
        var below = LogSpace.LogErfc(threshold);
        var above = LogSpace.LogErfc(Math.BitIncrement(threshold));
        Assert.AreEqual(below, above, Math.Abs(below) * 1e-14);
    }

    [TestMethod]
    public void LogErfcHandlesTheLimits()
    {
        Assert.AreEqual(Math.Log(2), LogSpace.LogErfc(-40), 1e-15);
        Assert.AreEqual(double.NegativeInfinity, LogSpace.LogErfc(double.PositiveInfinity));
        Assert.IsTrue(double.IsNaN(LogSpace.LogErfc(double.NaN)));
        Assert.IsTrue(double.IsFinite(LogSpace.LogErfc(1e6)));
    }

    [TestMethod]
    public void AddAndSubtractInvertEachOther()
    {
        Assert.AreEqual(Math.Log(5), LogSpace.Add(Math.Log(2), Math.Log(3)), 1e-15);
        Assert.AreEqual(Math.Log(2), LogSpace.Subtract(Math.Log(5), Math.Log(3)), 1e-15);
        Assert.AreEqual(1000 + Math.Log(2), LogSpace.Add(1000, 1000), 1e-12);
        Assert.AreEqual(-3.0, LogSpace.Add(-3, double.NegativeInfinity));
        Assert.AreEqual(double.NegativeInfinity, LogSpace.Subtract(7, 7));
        Assert.AreEqual(Math.Log(1e-20), LogSpace.Subtract(LogSpace.LogOnePlus(1e-20), 0), 1e-6);
        Assert.ThrowsExactly<ArgumentException>(() => LogSpace.Subtract(1, 2));
    }

    [TestMethod]
    public void LogOnePlusAndExpMinusOneKeepSmallArguments()
    {
        Assert.AreEqual(1e-18, LogSpace.LogOnePlus(1e-18), 1e-30);
        Assert.AreEqual(1e-10 - 5e-21, LogSpace.LogOnePlus(1e-10), 1e-24);
        Assert.AreEqual(1e-10 + 5e-21, LogSpace.ExpMinusOne(1e-10), 1e-24);
        Assert.AreEqual(Math.Log(2), LogSpace.LogOnePlus(1), 1e-15);
        Assert.AreEqual(Math.E - 1, LogSpace.ExpMinusOne(1), 1e-15);
        Assert.AreEqual(-1.0, LogSpace.ExpMinusOne(-800));
    }
}
