using System.Xml.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Pipelines.Experiments.Tests;

[TestClass]
public sealed class ExperimentChartTests
{
    [TestMethod]
    public void SaveWritesAnSvgAndAPngBesideIt()
    {
        var directory = Directory.CreateTempSubdirectory("pipelines-chart-");
        try
        {
            using var plot = ExperimentChart.Create("Loss of two runs", "step", "loss");
            ExperimentChart.AddLine(plot, "first", [1, 2, 3], [3, 2, 1]);
            ExperimentChart.AddLine(plot, "second", [1, 2, 3], [2, 2, 2]);

            var paths = ExperimentChart.Save(plot, Path.Combine(directory.FullName, "nested", "loss"), width: 400, height: 300);

            CollectionAssert.AreEqual(new[] { "loss.svg", "loss.png" }, paths.Select(Path.GetFileName).ToArray());
            var svg = XDocument.Load(paths[0]);
            Assert.AreEqual("400", (string?)svg.Root!.Attribute("width"));
            StringAssert.Contains(svg.ToString(), "Loss of two runs");
            StringAssert.Contains(svg.ToString(), "second");
            CollectionAssert.AreEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, File.ReadAllBytes(paths[1])[..4]);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void MismatchedSeriesAndLabelsAreRefused()
    {
        using var plot = ExperimentChart.Create("t", "x", "y");
        var error = Assert.ThrowsExactly<ArgumentException>(() => ExperimentChart.AddLine(plot, "short", [1, 2], [1]));
        StringAssert.Contains(error.Message, "'short' has 2 x values and 1 y values");
        error = Assert.ThrowsExactly<ArgumentException>(() => ExperimentChart.HeatMap("t", new double[2, 3], ["a", "b"], ["c", "d"], "rows", "columns", "value"));
        StringAssert.Contains(error.Message, "2 x 3 values need as many row and column labels, not 2 and 2");
        Assert.ThrowsExactly<ArgumentException>(() => ExperimentChart.HeatMap("t", new double[1, 1], ["a"], ["b"], "rows", "columns", "value", new string?[2, 1]));
        Assert.AreEqual("width", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ExperimentChart.Save(plot, "chart", width: 0)).ParamName);
    }
}
