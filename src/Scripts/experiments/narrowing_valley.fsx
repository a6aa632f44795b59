// The FOCUS paper's phase diagram (arXiv 2501.12243, Fig. 2) on its narrowing valley L = 0.5 a x^2 y^2 - c x, seen
// through a rotation: for each gradient-noise level sigma and sharpness a, which of Adam, Signum and FOCUS reaches the
// lowest mean loss after a fixed number of noisy steps, each at its best learning rate; without weight decay (Fig. 2a)
// and with 0.1 (Fig. 2b).
//
//   dotnet build src/Scripts -c Release
//   dotnet fsi src/Scripts/experiments/narrowing_valley.fsx                          (full: a few minutes on 2 cores)
//   PIPELINES_BUDGET=tiny dotnet fsi src/Scripts/experiments/narrowing_valley.fsx    (smoke run, seconds)
//
// Writes to $PIPELINES_OUTPUT, else artifacts/experiments/narrowing_valley/, for each weight decay wd (0 and 0.1):
//   wd<wd>.csv               one row per cell and optimizer: best mean final loss, its learning rate, whether it won
//   wd<wd>-winner.svg        each cell coloured and labelled by its winner
//   wd<wd>-<optimizer>.svg   each optimizer's best mean final loss, as sign(L) log10(1 + |L|)
// (NarrowingValleyPhaseDiagram.WriteAll, as samples/NarrowingValley writes them), and for both weight decays:
//   wins.csv                 per weight decay and optimizer: the cells it won (a Deedle frame grouped by both)

#load "prelude.fsx"

open Deedle
open Pipelines.Experiments
open Pipelines.Scripts
open System
open System.Globalization
open System.IO

let name = "narrowing_valley"
let budget = Experiment.budget ()
let output = Experiment.outputDirectory name
Experiment.announce name budget
let pick tiny full = Experiment.pick budget tiny full

// The full grid is 13 noise levels in [0, 3] by 9 sharpnesses in logspace(-1, 3) (the paper's range, coarser), each
// optimizer at 20 learning rates in logspace(-3, 0) on 50 replicates of 1,000 steps; the tiny one is 3 x 3.
let optionsWith (weightDecay: float) =
    NarrowingValleyOptions(
        Steps = pick 200 1000,
        Replicates = pick 8 50,
        LearningRates = NarrowingValleyOptions.LogSpace(-3.0, 0.0, pick 7 20),
        NoiseLevels = pick [| 0.0; 1.5; 3.0 |] [| for index in 0..12 -> 0.25 * float index |],
        Sharpnesses = pick [| 0.1; 10.0; 1000.0 |] (NarrowingValleyOptions.LogSpace(-1.0, 3.0, 9)),
        WeightDecay = weightDecay
    )

let weightDecays = [ 0.0; 0.1 ]
let threads = Experiment.threadCount ()
let diagrams =
    [ for weightDecay in weightDecays ->
          let label = $"wd %g{weightDecay}"
          let cells = Valley.run label threads 2025 (optionsWith weightDecay)
          weightDecay, cells ]

for weightDecay, cells in diagrams do
    let prefix = String.Format(CultureInfo.InvariantCulture, "wd{0}", weightDecay)
    let suffix = $"weight decay %g{weightDecay}"
    NarrowingValleyPhaseDiagram.WriteAll(Array.ofList cells, output, prefix, suffix) |> ignore
    printfn ""
    printfn "Winner per cell, %s (rows: sharpness a, columns: noise sigma):" suffix
    printf "%s" (Valley.winnerTable cells)
    let wins = Valley.wins cells |> List.map (fun (optimizer, count) -> $"{optimizer} {count}") |> String.concat ", "
    printfn "summary: %s: cells won %s of %d" suffix wins cells.Length

/// One optimizer in one cell: whether it won the cell (a row of the frame that wins.csv aggregates).
type CellResult =
    { WeightDecay: float
      Optimizer: string
      Sharpness: float
      NoiseLevel: float
      Won: int }

let wins =
    [ for weightDecay, cells in diagrams do
          for cell in cells do
              for score in cell.Scores ->
                  { WeightDecay = weightDecay
                    Optimizer = string score.Optimizer
                    Sharpness = cell.Sharpness
                    NoiseLevel = cell.NoiseLevel
                    Won = if Valley.hasWinner cell && cell.Winner = score.Optimizer then 1 else 0 } ]
    |> Frames.ofRecords
    |> Frame.aggregateRowsBy [ "WeightDecay"; "Optimizer" ] [ "Won" ] (fun (won: Series<int, int>) -> Seq.sum won.Values)
printfn ""
Frames.print wins
Frames.saveCsv (Path.Combine(output, "wins.csv")) wins
printfn "wrote wd0.csv, wd0.1.csv, their winner and per-optimizer heat maps, and wins.csv to %s" output
