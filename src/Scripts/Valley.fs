namespace Pipelines.Scripts

open System
open System.Globalization
open System.Text
open Pipelines.Components.Compute
open Pipelines.Experiments

/// The FOCUS paper's narrowing valley (arXiv 2501.12243, Fig. 2) through
/// <see cref="T:Pipelines.Experiments.NarrowingValleyExperiment"/>: which of Adam, Signum and FOCUS reaches
/// the lowest loss over the noise sigma and the sharpness a. Its CSV and heat maps are
/// <see cref="T:Pipelines.Experiments.NarrowingValleyPhaseDiagram"/>'s.
[<RequireQualifiedAccess>]
module Valley =
    /// An axis label: three significant digits without an exponent (0.316, 31.6, 1000).
    let private axisLabel (value: float) =
        value.ToString((if abs value >= 1000.0 then "F0" else "G3"), CultureInfo.InvariantCulture)

    /// Runs the grid on <paramref name="threads"/> threads from <paramref name="seed"/>, printing a line per sharpness
    /// (labelled <paramref name="label"/>); the cells come sharpness-major, then by noise, in the options' orders.
    let run (label: string) (threads: int) (seed: int) (options: NarrowingValleyOptions) : NarrowingValleyCell list =
        let clock = Diagnostics.Stopwatch.StartNew()
        let progress =
            { new IProgress<NarrowingValleyProgress> with
                member _.Report report =
                    if report.CompletedCells % options.NoiseLevels.Count = 0 then
                        printfn "%s | a = %s done: %d/%d cells | %.1f s" label (axisLabel report.LastCell.Sharpness) report.CompletedCells report.TotalCells clock.Elapsed.TotalSeconds }
        NarrowingValleyExperiment.Run(options, Random seed, progress, Parallelism threads) |> List.ofSeq

    /// The grid's axes as the paper draws them: sharpnesses largest first (rows), noise levels increasing (columns).
    let axes (cells: NarrowingValleyCell list) : float list * float list =
        (cells |> List.map _.Sharpness |> List.distinct |> List.sortDescending), (cells |> List.map _.NoiseLevel |> List.distinct |> List.sort)

    /// The cell at (sharpness, noise).
    /// <exception cref="System.Collections.Generic.KeyNotFoundException">No such cell.</exception>
    let cellAt (cells: NarrowingValleyCell list) (sharpness: float) (noise: float) : NarrowingValleyCell =
        cells |> List.find (fun cell -> cell.Sharpness = sharpness && cell.NoiseLevel = noise)

    /// Whether any optimizer ended the cell with a finite loss (otherwise the cell has no winner worth drawing).
    let hasWinner (cell: NarrowingValleyCell) : bool =
        cell.Scores |> Seq.exists (fun score -> Double.IsFinite score.BestLoss)

    /// How many cells each optimizer won (every optimizer run, in the options' order; cells where all diverged are not counted).
    let wins (cells: NarrowingValleyCell list) : (ValleyOptimizer * int) list =
        match cells with
        | [] -> []
        | first :: _ ->
            [ for score in first.Scores ->
                  score.Optimizer, cells |> List.filter (fun cell -> hasWinner cell && cell.Winner = score.Optimizer) |> List.length ]

    /// The winners as a text grid: a row per sharpness (largest first), a column per noise level.
    let winnerTable (cells: NarrowingValleyCell list) : string =
        let sharpnesses, noises = axes cells
        let text = StringBuilder()
        let cellText (value: string) = value.PadLeft 7
        text.Append("a \\ sigma ").AppendLine(noises |> List.map (axisLabel >> cellText) |> String.concat "") |> ignore
        for sharpness in sharpnesses do
            let winners =
                noises
                |> List.map (fun noise ->
                    let cell = cellAt cells sharpness noise
                    cellText (if hasWinner cell then string cell.Winner else "-"))
            text.Append((axisLabel sharpness).PadRight 10).AppendLine(String.concat "" winners) |> ignore
        text.ToString()
