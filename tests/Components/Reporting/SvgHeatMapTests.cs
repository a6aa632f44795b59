using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Reporting;

namespace Pipelines.Components.Tests.Reporting;

[TestClass]
public sealed class SvgHeatMapTests
{
    private static readonly string[] LearningRates = ["1e-4", "3e-4", "1e-3"];
    private static readonly string[] Sparsities = ["0%", "50%", "75%", "90%"];

    private static double[,] Losses() => new double[,]
    {
        { 3.1, 3.2, 3.4, 3.9 },
        { 2.9, 3.0, 3.3, 4.2 },
        { 2.7, 2.95, double.NaN, 5.0 },
    };

    [TestMethod]
    public void IsWellFormedWithACellPerValueAndAllLabels()
    {
        var heatMap = new SvgHeatMap(Losses(), LearningRates, Sparsities, new HeatMapOptions
        {
            Title = "Final loss",
            RowAxisLabel = "learning rate",
            ColumnAxisLabel = "sparsity",
            ValueLabel = "loss",
        });
        var document = SvgAssert.Parse(heatMap.ToSvg());
        var cells = SvgAssert.WithClass(document, "cell").ToArray();
        Assert.HasCount(12, cells);
        CollectionAssert.AreEqual(LearningRates, SvgAssert.WithClass(document, "row-label").Select(text => text.Value).ToArray());
        CollectionAssert.AreEqual(Sparsities, SvgAssert.WithClass(document, "column-label").Select(text => text.Value).ToArray());
        Assert.AreEqual("1e-3, 0%: 2.7", cells[8].Value);
        Assert.HasCount(1, SvgAssert.WithClass(document, "legend-bar").ToArray());
        Assert.IsGreaterThanOrEqualTo(2, SvgAssert.WithClass(document, "legend-tick").Count());
        SvgAssert.CoordinatesInsideViewBox(document);
    }

    [TestMethod]
    public void ColoursSpanTheMapAndMissingValuesAreGrey()
    {
        var document = SvgAssert.Parse(new SvgHeatMap(Losses(), LearningRates, Sparsities).ToSvg());
        var fills = SvgAssert.WithClass(document, "cell").Select(cell => (string)cell.Attribute("fill")!).ToArray();
        Assert.AreEqual("#440154", fills[8]);  // smallest value: the map's low end
        Assert.AreEqual("#fde725", fills[11]); // largest value: the map's high end
        Assert.AreEqual("#d9d9d9", fills[10]); // NaN
        Assert.HasCount(1, SvgAssert.WithClass(document, "legend-missing").ToArray());
    }

    [TestMethod]
    public void PrintsValuesOrGivenAnnotations()
    {
        var values = SvgAssert.Parse(new SvgHeatMap(Losses(), LearningRates, Sparsities, new HeatMapOptions { ShowValues = true, ValueFormat = "F1" }).ToSvg());
        var printed = SvgAssert.WithClass(values, "cell-value").Select(text => text.Value).ToArray();
        Assert.HasCount(12, printed);
        Assert.AreEqual("2.9", printed[4]);
        Assert.AreEqual("NaN", printed[10]);

        var annotations = new string?[3, 4];
        annotations[2, 2] = "diverged";
        var annotated = SvgAssert.Parse(new SvgHeatMap(Losses(), LearningRates, Sparsities, new HeatMapOptions { ShowValues = true }, annotations).ToSvg());
        CollectionAssert.AreEqual(new[] { "diverged" }, SvgAssert.WithClass(annotated, "cell-value").Select(text => text.Value).ToArray());
    }

    [TestMethod]
    public void LogarithmicScaleRejectsNonPositiveValues()
    {
        var values = new double[,] { { 1, 10 }, { 0, 100 } };
        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            new SvgHeatMap(values, ["a", "b"], ["c", "d"], new HeatMapOptions { ValueScale = AxisScale.Logarithmic }));
        StringAssert.Contains(exception.Message, "values[1, 0] = 0");
        values[1, 0] = 1000;
        var document = SvgAssert.Parse(new SvgHeatMap(values, ["a", "b"], ["c", "d"], new HeatMapOptions { ValueScale = AxisScale.Logarithmic, ColorMap = ColorMap.BlueWhiteRed }).ToSvg());
        var fills = SvgAssert.WithClass(document, "cell").Select(cell => (string)cell.Attribute("fill")!).ToArray();
        Assert.AreEqual("#2166ac", fills[0]);
        Assert.AreEqual("#b2182b", fills[2]);
        SvgAssert.CoordinatesInsideViewBox(document);
    }

    [TestMethod]
    public void HandlesOneCellLongLabelsAndAllMissing()
    {
        SvgAssert.CoordinatesInsideViewBox(SvgAssert.Parse(new SvgHeatMap(new double[,] { { 4 } }, ["only row"], ["a very long column label indeed"]).ToSvg()));
        SvgAssert.CoordinatesInsideViewBox(SvgAssert.Parse(new SvgHeatMap(new double[,] { { double.NaN, double.NaN } }, ["r"], ["x", "y"], new HeatMapOptions { ValueScale = AxisScale.Logarithmic }).ToSvg()));
    }

    [TestMethod]
    public void RejectsMismatchedInput()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new SvgHeatMap(Losses(), ["one"], Sparsities));
        Assert.ThrowsExactly<ArgumentException>(() => new SvgHeatMap(Losses(), LearningRates, ["x"]));
        Assert.ThrowsExactly<ArgumentException>(() => new SvgHeatMap(new double[0, 0], [], []));
        Assert.ThrowsExactly<ArgumentException>(() => new SvgHeatMap(Losses(), LearningRates, Sparsities, annotations: new string?[1, 1]));
        Assert.ThrowsExactly<ArgumentException>(() => new SvgHeatMap(Losses(), LearningRates, Sparsities, new HeatMapOptions { Minimum = 10, Maximum = 1 }));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new HeatMapOptions { CellWidth = 0 });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new HeatMapOptions { Minimum = double.NaN });
        Assert.ThrowsExactly<ArgumentException>(() => new HeatMapOptions { ValueFormat = "" });
    }
}
