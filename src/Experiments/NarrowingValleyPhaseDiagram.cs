using System.Globalization;
using ScottPlot;

namespace Pipelines.Experiments;

/// <summary>The phase diagram of a <see cref="NarrowingValleyExperiment"/> as CSV and heat maps (ScottPlot, SVG and PNG).</summary>
/// <remarks>
/// arXiv 2501.12243, Fig. 2: noise sigma across (columns, increasing), sharpness a down (rows, the largest on top).
/// The valley's loss is unbounded below and its best values span decades of both signs, so the per-optimizer maps
/// colour <c>sign(L) log10(1 + |L|)</c> of the best mean final loss (lower is better; grey: every rate diverged).
/// The winner map colours each cell by the optimizer with the lowest best loss and names it.
/// </remarks>
public static class NarrowingValleyPhaseDiagram
{
    /// <summary>One row per (cell, optimizer): <c>Sharpness,NoiseLevel,Optimizer,BestLoss,BestLearningRate,IsWinner</c>.</summary>
    public static string ToCsv(IReadOnlyList<NarrowingValleyCell> cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        return ExperimentCsv.Of(cells.SelectMany(cell => cell.Scores.Select(score => new
        {
            cell.Sharpness, cell.NoiseLevel, score.Optimizer, score.BestLoss, score.BestLearningRate, IsWinner = score.Optimizer == cell.Winner,
        })));
    }

    /// <summary>The best mean final loss of <paramref name="optimizer"/> in every cell, as <c>sign(L) log10(1 + |L|)</c>.</summary>
    /// <exception cref="ArgumentException">No cells, or the cells do not form a full grid.</exception>
    /// <exception cref="KeyNotFoundException">The optimizer was not run.</exception>
    public static Plot BestLossMap(IReadOnlyList<NarrowingValleyCell> cells, ValleyOptimizer optimizer, string? title = null)
    {
        var (sharpnesses, noises, grid) = Grid(cells);
        var values = new double[sharpnesses.Length, noises.Length];
        for (var row = 0; row < sharpnesses.Length; row++)
            for (var column = 0; column < noises.Length; column++)
                values[row, column] = SignedLog(grid[row, column][optimizer].BestLoss);
        var texts = new string?[sharpnesses.Length, noises.Length];
        for (var row = 0; row < sharpnesses.Length; row++)
            for (var column = 0; column < noises.Length; column++)
                texts[row, column] = double.IsFinite(values[row, column]) ? values[row, column].ToString("F1", CultureInfo.InvariantCulture) : "-";
        return ExperimentChart.HeatMap(title ?? $"{optimizer}: best mean final loss", values, Labels(sharpnesses), Labels(noises),
            "sharpness a", "noise sigma", "sign(L) log10(1+|L|)", texts);
    }

    /// <summary>Each cell coloured by its winner (the optimizer with the lowest best loss) and labelled with its name.</summary>
    /// <exception cref="ArgumentException">No cells, or the cells do not form a full grid.</exception>
    public static Plot WinnerMap(IReadOnlyList<NarrowingValleyCell> cells, string? title = null)
    {
        var (sharpnesses, noises, grid) = Grid(cells);
        var optimizers = Enum.GetValues<ValleyOptimizer>();
        var values = new double[sharpnesses.Length, noises.Length];
        var names = new string?[sharpnesses.Length, noises.Length];
        for (var row = 0; row < sharpnesses.Length; row++)
        {
            for (var column = 0; column < noises.Length; column++)
            {
                var cell = grid[row, column];
                var finite = cell.Scores.Any(score => double.IsFinite(score.BestLoss));
                values[row, column] = finite ? Array.IndexOf(optimizers, cell.Winner) : double.NaN;
                names[row, column] = finite ? cell.Winner.ToString() : "-";
            }
        }

        var legend = string.Join(", ", optimizers.Select((optimizer, index) => $"{index} {optimizer}"));
        return ExperimentChart.HeatMap(title ?? "Winner: lowest best mean final loss", values, Labels(sharpnesses), Labels(noises),
            "sharpness a", "noise sigma", legend, names, new ScottPlot.Range(0, optimizers.Length - 1));
    }

    /// <summary>Writes <c>{prefix}.csv</c>, <c>{prefix}-winner</c> and <c>{prefix}-{optimizer}</c> per optimizer as SVG and PNG; returns the paths.</summary>
    /// <exception cref="ArgumentException">No cells, or the cells do not form a full grid.</exception>
    public static IReadOnlyList<string> WriteAll(IReadOnlyList<NarrowingValleyCell> cells, string directory, string prefix = "narrowing-valley", string? titleSuffix = null)
    {
        ArgumentNullException.ThrowIfNull(cells);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        Directory.CreateDirectory(directory);
        var suffix = string.IsNullOrEmpty(titleSuffix) ? "" : $" ({titleSuffix})";
        var paths = new List<string>();
        var csvPath = Path.Combine(directory, $"{prefix}.csv");
        File.WriteAllText(csvPath, ToCsv(cells));
        paths.Add(csvPath);
        using (var winner = WinnerMap(cells, $"Winner: lowest best mean final loss{suffix}"))
            paths.AddRange(ExperimentChart.Save(winner, Path.Combine(directory, $"{prefix}-winner"), ChartWidth(cells), ChartHeight(cells)));
        foreach (var optimizer in cells[0].Scores.Select(score => score.Optimizer))
        {
            using var map = BestLossMap(cells, optimizer, $"{optimizer}: best mean final loss{suffix}");
            paths.AddRange(ExperimentChart.Save(map, Path.Combine(directory, $"{prefix}-{optimizer.ToString().ToLowerInvariant()}"), ChartWidth(cells), ChartHeight(cells)));
        }

        return paths;
    }

    /// <summary><c>sign(L) log10(1 + |L|)</c>; NaN for a non-finite loss (a diverged cell).</summary>
    public static double SignedLog(double loss) => double.IsFinite(loss) ? Math.Sign(loss) * Math.Log10(1 + Math.Abs(loss)) : double.NaN;

    private static (double[] Sharpnesses, double[] Noises, NarrowingValleyCell[,] Grid) Grid(IReadOnlyList<NarrowingValleyCell> cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Count == 0) throw new ArgumentException("No cells to draw.", nameof(cells));
        var sharpnesses = cells.Select(cell => cell.Sharpness).Distinct().OrderByDescending(value => value).ToArray();
        var noises = cells.Select(cell => cell.NoiseLevel).Distinct().Order().ToArray();
        var grid = new NarrowingValleyCell[sharpnesses.Length, noises.Length];
        foreach (var cell in cells)
            grid[Array.IndexOf(sharpnesses, cell.Sharpness), Array.IndexOf(noises, cell.NoiseLevel)] = cell;
        for (var row = 0; row < sharpnesses.Length; row++)
            for (var column = 0; column < noises.Length; column++)
                if (grid[row, column] is null)
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The cells do not form a full grid: no cell at sharpness {sharpnesses[row]}, noise {noises[column]}."), nameof(cells));
        return (sharpnesses, noises, grid);
    }

    private static int ChartWidth(IReadOnlyList<NarrowingValleyCell> cells) => Math.Max(720, 300 + 76 * cells.Select(cell => cell.NoiseLevel).Distinct().Count());

    private static int ChartHeight(IReadOnlyList<NarrowingValleyCell> cells) => Math.Max(420, 160 + 36 * cells.Select(cell => cell.Sharpness).Distinct().Count());

    private static string[] Labels(double[] values) => values.Select(Label).ToArray();

    /// <summary>A value rounded to three significant digits, without an exponent: 0.316, 3.16, 316, 1000.</summary>
    internal static string Label(double value)
    {
        if (value == 0 || !double.IsFinite(value)) return value.ToString(CultureInfo.InvariantCulture);
        var decimals = 2 - (int)Math.Floor(Math.Log10(Math.Abs(value)));
        var rounded = decimals >= 0 ? Math.Round(value, Math.Min(decimals, 15)) : Math.Round(value / Math.Pow(10, -decimals)) * Math.Pow(10, -decimals);
        return rounded.ToString("0.###############", CultureInfo.InvariantCulture);
    }
}
