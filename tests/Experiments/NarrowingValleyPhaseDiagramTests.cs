using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Experiments;

namespace Pipelines.Experiments.Tests;

[TestClass]
public sealed class NarrowingValleyPhaseDiagramTests
{
    private static NarrowingValleyCell Cell(double noise, double sharpness, double adam, double signum, double focus) => new(noise, sharpness,
    [
        new ValleyScore(ValleyOptimizer.Adam, adam, 0.1, [adam]),
        new ValleyScore(ValleyOptimizer.Signum, signum, 0.01, [signum]),
        new ValleyScore(ValleyOptimizer.Focus, focus, 0.02, [focus]),
    ]);

    // Sharpness-major, as the experiment returns them: a = 1 then a = 100; noise 0 then 2.
    private static readonly NarrowingValleyCell[] Cells =
    [
        Cell(0, 1, adam: -5, signum: -3, focus: -2),
        Cell(2, 1, adam: -1, signum: -2, focus: -1.5),
        Cell(0, 100, adam: -0.5, signum: -0.2, focus: double.PositiveInfinity),
        Cell(2, 100, adam: double.PositiveInfinity, signum: double.PositiveInfinity, focus: double.PositiveInfinity),
    ];

    [TestMethod]
    public void TheCsvHasOneRowPerCellAndOptimizerAndMarksTheWinner()
    {
        var lines = NarrowingValleyPhaseDiagram.ToCsv(Cells).TrimEnd('\n').Split('\n');
        Assert.AreEqual("Sharpness,NoiseLevel,Optimizer,BestLoss,BestLearningRate,IsWinner", lines[0]);
        Assert.HasCount(1 + 12, lines);
        Assert.AreEqual("1,0,Adam,-5,0.1,True", lines[1]);
        Assert.AreEqual("1,2,Signum,-2,0.01,True", lines[5]);
        Assert.AreEqual("100,0,Focus,Infinity,0.02,False", lines[9]);
    }

    [TestMethod]
    public void WinnerMapPutsTheSharpestRowOnTopAndNamesEachWinner()
    {
        using var map = NarrowingValleyPhaseDiagram.WinnerMap(Cells);
        // Rows top to bottom: a = 100, then a = 1; columns: noise 0, 2. A cell where everything diverged has no winner.
        CollectionAssert.AreEqual(new[] { "Adam", "-", "Adam", "Signum" }, PlotContents.CellTexts(map));
        CollectionAssert.AreEqual(new[] { "100", "1" }, PlotContents.RowLabels(map));
    }

    [TestMethod]
    public void BestLossMapsShowTheSignedLogOfTheLoss()
    {
        using var map = NarrowingValleyPhaseDiagram.BestLossMap(Cells, ValleyOptimizer.Signum);
        CollectionAssert.AreEqual(new[] { "-0.1", "-", "-0.6", "-0.5" }, PlotContents.CellTexts(map), "a diverged cell shows '-'");
        Assert.AreEqual(-Math.Log10(6), NarrowingValleyPhaseDiagram.SignedLog(-5), 1e-15);
        Assert.AreEqual(Math.Log10(3), NarrowingValleyPhaseDiagram.SignedLog(2), 1e-15);
        Assert.AreEqual(0, NarrowingValleyPhaseDiagram.SignedLog(0));
        Assert.IsTrue(double.IsNaN(NarrowingValleyPhaseDiagram.SignedLog(double.PositiveInfinity)));
    }

    [TestMethod]
    public void AnIncompleteGridIsRefused()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => NarrowingValleyPhaseDiagram.WinnerMap(Cells[..3]));
        StringAssert.Contains(error.Message, "no cell at sharpness 100, noise 2");
        Assert.ThrowsExactly<ArgumentException>(() => NarrowingValleyPhaseDiagram.BestLossMap([], ValleyOptimizer.Adam));
    }

    [TestMethod]
    public void WriteAllWritesTheCsvTheWinnerAndOneMapPerOptimizer()
    {
        var directory = Directory.CreateTempSubdirectory("pipelines-valley-");
        try
        {
            var paths = NarrowingValleyPhaseDiagram.WriteAll(Cells, directory.FullName, "wd0.1", "weight decay 0.1");
            CollectionAssert.AreEqual(new[]
            {
                "wd0.1.csv", "wd0.1-winner.svg", "wd0.1-winner.png", "wd0.1-adam.svg", "wd0.1-adam.png", "wd0.1-signum.svg", "wd0.1-signum.png",
                "wd0.1-focus.svg", "wd0.1-focus.png",
            }, paths.Select(Path.GetFileName).ToArray());
            Assert.AreEqual(NarrowingValleyPhaseDiagram.ToCsv(Cells), File.ReadAllText(paths[0]));
            StringAssert.Contains(File.ReadAllText(paths[1]), "(weight decay 0.1)");
            CollectionAssert.AreEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, File.ReadAllBytes(paths[2])[..4]);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [TestMethod]
    [DataRow(0.1, "0.1")]
    [DataRow(0.31622776601683794, "0.316")]
    [DataRow(3.1622776601683795, "3.16")]
    [DataRow(316.22776601683796, "316")]
    [DataRow(1000.0, "1000")]
    [DataRow(2.25, "2.25")]
    [DataRow(0.0, "0")]
    public void AxisLabelsKeepThreeSignificantDigits(double value, string expected) => Assert.AreEqual(expected, NarrowingValleyPhaseDiagram.Label(value));
}
