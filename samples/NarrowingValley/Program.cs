// The FOCUS paper's phase diagram (arXiv 2501.12243, Fig. 2) on its narrowing-valley landscape: which of Adam,
// Signum and FOCUS reaches the lowest loss, over gradient-noise sigma and valley sharpness a, without weight decay
// and with 0.1 (Fig. 2a and 2b).
//
//   dotnet run -c Release --project samples/NarrowingValley                # ~2-5 min on 2 idle cores
//   dotnet run -c Release --project samples/NarrowingValley -- --quick     # a smoke run (seconds)
//   dotnet run -c Release --project samples/NarrowingValley -- --help
//
// Writes DIR/wd0.csv, wd0-winner.{svg,png}, wd0-{adam,signum,focus}.{svg,png} and the same for wd0.1 (DIR defaults to runs/valley).
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Pipelines.Components.Compute;
using Pipelines.Experiments;
using Pipelines.Samples;
using Spectre.Console;

var quickOption = new Option<bool>("--quick") { Description = "A smoke run: a 3 x 3 grid, 8 replicates, 7 rates, 200 steps (seconds)." };
var threadsOption = new Option<int>("--threads") { Description = "Cells run at once.", DefaultValueFactory = _ => 2 };
var replicatesOption = new Option<int?>("--replicates") { Description = "Independent starting points per (cell, optimizer, rate) (50; 8 with --quick)." };
var stepsOption = new Option<int?>("--steps") { Description = "Optimizer steps per replicate (1000; 200 with --quick)." };
var outputOption = new Option<string>("--out") { Description = "Where the CSV tables and heat maps go.", DefaultValueFactory = _ => Path.Combine("runs", "valley") };
var root = new RootCommand("Draws the FOCUS paper's phase diagram: the best of Adam, Signum and FOCUS over noise and sharpness on the narrowing valley.")
{
    quickOption, threadsOption, replicatesOption, stepsOption, outputOption,
};
root.SetAction(parsed =>
{
    var quick = parsed.GetValue(quickOption);
    var options = new NarrowingValleyOptions
    {
        Steps = parsed.GetValue(stepsOption) ?? (quick ? 200 : 1000),
        Replicates = parsed.GetValue(replicatesOption) ?? (quick ? 8 : 50),
        LearningRates = NarrowingValleyOptions.LogSpace(-3, 0, quick ? 7 : 20),
        NoiseLevels = quick ? [0, 1.5, 3] : Enumerable.Range(0, 13).Select(index => index * 0.25).ToArray(),
        Sharpnesses = quick ? [0.1, 10, 1000] : NarrowingValleyOptions.LogSpace(-1, 3, 9),
    };
    return ConsoleCancellation.Run(cancellation => Run(options, parsed.GetValue(threadsOption), parsed.GetValue(outputOption)!, cancellation));
});
return root.Parse(args).Invoke();

static int Run(NarrowingValleyOptions baseOptions, int threads, string output, CancellationToken cancellation)
{
    var clock = Stopwatch.StartNew();
    foreach (var weightDecay in new[] { 0.0, 0.1 })
    {
        var options = baseOptions with { WeightDecay = weightDecay };
        var name = string.Create(CultureInfo.InvariantCulture, $"wd{weightDecay}");
        var cellCount = options.NoiseLevels.Count * options.Sharpnesses.Count;
        var cells = ExperimentProgress.Run<NarrowingValleyProgress, IReadOnlyList<NarrowingValleyCell>>($"weight decay {weightDecay}: {cellCount} cells", cellCount,
            report => string.Create(CultureInfo.InvariantCulture,
                $"  cell {report.CompletedCells}/{report.TotalCells}: sharpness {report.LastCell.Sharpness:G3}, noise {report.LastCell.NoiseLevel:G3}, winner {report.LastCell.Winner}"),
            progress => NarrowingValleyExperiment.Run(options, new Random(2025), progress, new Parallelism(threads), cancellation));
        NarrowingValleyPhaseDiagram.WriteAll(cells, output, name, string.Create(CultureInfo.InvariantCulture, $"weight decay {weightDecay}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Weight decay {weightDecay}: winner per cell (rows: sharpness a, columns: noise sigma) after {clock.Elapsed.TotalSeconds:F0} s"));
        var noises = cells.Select(cell => cell.NoiseLevel).Distinct().Order().ToArray();
        Console.WriteLine("a \\ sigma  " + string.Join(" ", noises.Select(noise => noise.ToString("F2", CultureInfo.InvariantCulture).PadLeft(6))));
        foreach (var row in cells.GroupBy(cell => cell.Sharpness).OrderByDescending(group => group.Key))
            Console.WriteLine(row.Key.ToString("G4", CultureInfo.InvariantCulture).PadRight(10) + " " +
                string.Join(" ", row.OrderBy(cell => cell.NoiseLevel).Select(cell => cell.Winner.ToString().PadLeft(6))));
        var wins = cells.GroupBy(cell => cell.Winner).OrderBy(group => group.Key).Select(group => $"{group.Key} {group.Count()}");
        Console.WriteLine($"cells won: {string.Join(", ", wins)} of {cells.Count}");
        Console.WriteLine();
    }

    AnsiConsole.MarkupLine(Markup.Escape($"Wrote {Path.GetFullPath(output)} in {clock.Elapsed.TotalMinutes:F1} min."));
    return 0;
}
