using System.Globalization;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Reporting;

namespace Pipelines.Components.Tests.Reporting;

[TestClass]
public sealed class SvgLineChartTests
{
    private static SvgLineChart ThreeSeries(AxisScale yScale = AxisScale.Linear)
    {
        var steps = Enumerable.Range(1, 50).Select(step => (double)step).ToArray();
        return new SvgLineChart(new LineChartOptions { Title = "Loss", XAxisLabel = "step", YAxisLabel = "loss", YScale = yScale })
            .AddSeries("train", steps, steps.Select(step => 5 / Math.Sqrt(step)).ToArray())
            .AddSeries("validation", steps, steps.Select(step => 5.5 / Math.Sqrt(step) + 0.1).ToArray())
            .AddSeries("baseline", [(1.0, 3.0), (50.0, 3.0)]);
    }

    [TestMethod]
    public void IsWellFormedWithOneLineAndLegendEntryPerSeries()
    {
        var document = SvgAssert.Parse(ThreeSeries().ToSvg());
        var paths = SvgAssert.WithClass(document, "series").ToArray();
        Assert.HasCount(3, paths);
        Assert.HasCount(3, paths.Select(path => (string)path.Attribute("stroke")!).Distinct().ToArray());
        CollectionAssert.AreEqual(new[] { "train", "validation", "baseline" }, SvgAssert.WithClass(document, "legend-entry").Select(text => text.Value).ToArray());
        Assert.AreEqual("Loss", SvgAssert.WithClass(document, "title").Single().Value);
        SvgAssert.CoordinatesInsideViewBox(document);
    }

    [TestMethod]
    public void ManySeriesStayDistinct()
    {
        var chart = new SvgLineChart(new LineChartOptions());
        for (var index = 0; index < 23; index++) chart.AddSeries($"s{index}", [0.0, 1.0], [index, index + 1.0]);
        var styles = SvgAssert.WithClass(SvgAssert.Parse(chart.ToSvg()), "series")
            .Select(path => $"{path.Attribute("stroke")}|{path.Attribute("stroke-dasharray")}").ToArray();
        Assert.HasCount(23, styles.Distinct().ToArray());
    }

    [TestMethod]
    public void NonFinitePointsAreSkippedAndBreakTheLine()
    {
        var chart = new SvgLineChart(new LineChartOptions { YScale = AxisScale.Logarithmic })
            .AddSeries("diverging", [1.0, 2, 3, 4, 5, 6], [2.0, double.NaN, 3, 4, double.PositiveInfinity, -0.0 + double.NaN]);
        var document = SvgAssert.Parse(chart.ToSvg());
        var data = (string)SvgAssert.WithClass(document, "series").Single().Attribute("d")!;
        Assert.AreEqual(2, data.Count(command => command == 'M'), data); // the lone first point, then points 3-4
        Assert.AreEqual(1, data.Count(command => command == 'L'), data);
        Assert.HasCount(1, SvgAssert.WithClass(document, "point").ToArray()); // the lone first point
        SvgAssert.CoordinatesInsideViewBox(document);
    }

    [TestMethod]
    public void LogarithmicAxesRejectNonPositiveValues()
    {
        var chart = new SvgLineChart(new LineChartOptions { YScale = AxisScale.Logarithmic });
        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => chart.AddSeries("loss", [1.0, 2.0], [0.5, 0.0]));
        StringAssert.Contains(exception.Message, "Series 'loss': y[1] = 0");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SvgLineChart(new LineChartOptions { XScale = AxisScale.Logarithmic }).AddSeries("lr", [-1.0], [1.0]));
        Assert.IsEmpty(chart.Series);
    }

    [TestMethod]
    public void LogarithmicAxesGetDecadeTicks()
    {
        var chart = new SvgLineChart(new LineChartOptions { YScale = AxisScale.Logarithmic, XScale = AxisScale.Logarithmic })
            .AddSeries("power law", [1.0, 10, 100, 1000], [0.003, 0.04, 5, 42]);
        var document = SvgAssert.Parse(chart.ToSvg());
        CollectionAssert.AreEqual(new[] { "0.001", "0.01", "0.1", "1", "10", "100" }, SvgAssert.WithClass(document, "y-tick").Select(text => text.Value).ToArray());
        CollectionAssert.AreEqual(new[] { "1", "10", "100", "1000" }, SvgAssert.WithClass(document, "x-tick").Select(text => text.Value).ToArray());
        SvgAssert.CoordinatesInsideViewBox(document);
    }

    [TestMethod]
    public void UsesTheInvariantCultureWhateverTheCurrentOne()
    {
        var previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            var svg = new SvgLineChart(new LineChartOptions()).AddSeries("a", [0.5, 1.25], [0.125, 0.75]).ToSvg();
            var document = SvgAssert.Parse(svg);
            SvgAssert.CoordinatesInsideViewBox(document);
            CollectionAssert.Contains(SvgAssert.WithClass(document, "y-tick").Select(text => text.Value).ToArray(), "0.2");
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [TestMethod]
    public void EscapesTextAndReplacesCharactersXmlForbids()
    {
        var name = "<loss & \"acc\"> \u0001 \ud800";
        var document = SvgAssert.Parse(new SvgLineChart(new LineChartOptions { Title = "a & b" }).AddSeries(name, [1.0], [1.0]).ToSvg());
        Assert.AreEqual("<loss & \"acc\"> \ufffd \ufffd", SvgAssert.WithClass(document, "legend-entry").Single().Value);
        Assert.AreEqual("a & b", SvgAssert.WithClass(document, "title").Single().Value);
    }

    [TestMethod]
    public void RendersWithoutSeriesAndWithConstantData()
    {
        SvgAssert.CoordinatesInsideViewBox(SvgAssert.Parse(new SvgLineChart(new LineChartOptions()).ToSvg()));
        SvgAssert.CoordinatesInsideViewBox(SvgAssert.Parse(new SvgLineChart(new LineChartOptions()).AddSeries("flat", [3.0, 3.0], [7.0, 7.0]).ToSvg()));
        SvgAssert.CoordinatesInsideViewBox(SvgAssert.Parse(new SvgLineChart(new LineChartOptions { YScale = AxisScale.Logarithmic }).AddSeries("one", [1.0], [1.0]).ToSvg()));
    }

    [TestMethod]
    public void WritesAFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"chart-{Guid.NewGuid():N}.svg");
        try
        {
            ThreeSeries(AxisScale.Logarithmic).WriteTo(path);
            SvgAssert.Parse(File.ReadAllText(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void RejectsBadOptionsAndSeries()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LineChartOptions { Width = 10 });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LineChartOptions { Height = 100_000 });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LineChartOptions { YScale = (AxisScale)7 });
        Assert.ThrowsExactly<ArgumentNullException>(() => new LineChartOptions { Title = null! });
        Assert.ThrowsExactly<ArgumentException>(() => new SvgLineChart(new LineChartOptions()).AddSeries("a", [1.0, 2.0], [1.0]));
    }
}
