// The FOCUS paper's phase diagram (arXiv 2501.12243, Fig. 2) on its narrowing-valley landscape: which of Adam,
// Signum and FOCUS reaches the lowest loss, over gradient-noise sigma and valley sharpness a, without weight decay
// and with 0.1 (Fig. 2a and 2b).
//
//   dotnet run -c Release --project samples/NarrowingValley                # ~2-5 min on 2 idle cores
//   dotnet run -c Release --project samples/NarrowingValley -- --quick     # a smoke run (seconds)
//
// Options: --threads N --replicates N --steps N --out DIR
// Writes DIR/wd0.csv, wd0-winner.svg, wd0-{adam,signum,focus}.svg and the same for wd0.1 (DIR defaults to runs/valley).
using System.Diagnostics;
using System.Globalization;
using Pipelines.Components.Compute;
using Pipelines.Components.Experiments;
using Pipelines.Samples;

var arguments = new SampleArguments(args);
var quick = arguments.Has("quick");
var output = arguments.Text("out", Path.Combine("runs", "valley"));
var threads = arguments.Int("threads", 2);
var clock = Stopwatch.StartNew();

var baseOptions = new NarrowingValleyOptions
{
    Steps = arguments.Int("steps", quick ? 200 : 1000),
    Replicates = arguments.Int("replicates", quick ? 8 : 50),
    LearningRates = NarrowingValleyOptions.LogSpace(-3, 0, quick ? 7 : 20),
    NoiseLevels = quick ? [0, 1.5, 3] : Enumerable.Range(0, 13).Select(index => index * 0.25).ToArray(),
    Sharpnesses = quick ? [0.1, 10, 1000] : NarrowingValleyOptions.LogSpace(-1, 3, 9),
};

foreach (var weightDecay in new[] { 0.0, 0.1 })
{
    var options = baseOptions with { WeightDecay = weightDecay };
    var name = string.Create(CultureInfo.InvariantCulture, $"wd{weightDecay}");
    var cells = NarrowingValleyExperiment.Run(options, new Random(2025), parallelism: new Parallelism(threads));
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

Console.WriteLine($"Wrote {Path.GetFullPath(output)} in {clock.Elapsed.TotalMinutes:F1} min.");
