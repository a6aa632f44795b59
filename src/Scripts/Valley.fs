namespace Pipelines.Scripts

open System
open System.Globalization
open System.Text
open Pipelines.Components.Compute
open Pipelines.Components.Experiments
open Pipelines.Components.Reporting

/// One optimizer in one cell of a narrowing-valley phase diagram (a CSV row).
type ValleyRow =
    {
        /// The weight decay every optimizer used.
        WeightDecay: float
        /// a: how fast the valley narrows.
        Sharpness: float
        /// sigma: the multiplicative gradient noise.
        NoiseLevel: float
        /// The optimizer.
        Optimizer: ValleyOptimizer
        /// Its mean final loss at its best learning rate (+infinity when every rate diverged).
        BestLoss: float
        /// That learning rate.
        BestLearningRate: float
        /// Whether it reached the lowest loss of the cell.
        IsWinner: bool
    }

/// The FOCUS paper's narrowing valley (arXiv 2501.12243, Fig. 2) through
/// <see cref="T:Pipelines.Components.Experiments.NarrowingValleyExperiment"/>: which of Adam, Signum and FOCUS reaches
/// the lowest loss over the noise sigma and the sharpness a.
[<RequireQualifiedAccess>]
module Valley =
    /// Runs the grid on <paramref name="threads"/> threads from <paramref name="seed"/>, printing a line per sharpness
    /// (labelled <paramref name="label"/>); the cells come sharpness-major, then by noise, in the options' orders.
    let run (label: string) (threads: int) (seed: int) (options: NarrowingValleyOptions) : NarrowingValleyCell list =
        let clock = Diagnostics.Stopwatch.StartNew()
        let progress =
            { new IProgress<NarrowingValleyProgress> with
                member _.Report report =
                    if report.CompletedCells % options.NoiseLevels.Count = 0 then
                        printfn "%s | a = %.3g done: %d/%d cells | %.1f s" label report.LastCell.Sharpness report.CompletedCells report.TotalCells clock.Elapsed.TotalSeconds }
        NarrowingValleyExperiment.Run(options, Random seed, progress, Parallelism threads) |> List.ofSeq

    /// One row per cell and optimizer.
    let rows (weightDecay: float) (cells: NarrowingValleyCell list) : ValleyRow list =
        [ for cell in cells do
              for score in cell.Scores ->
                  { WeightDecay = weightDecay
                    Sharpness = cell.Sharpness
                    NoiseLevel = cell.NoiseLevel
                    Optimizer = score.Optimizer
                    BestLoss = score.BestLoss
                    BestLearningRate = score.BestLearningRate
                    IsWinner = score.Optimizer = cell.Winner } ]

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

    /// <c>sign(L) log10(1 + |L|)</c>, which keeps losses of both signs spanning decades readable; NaN when not finite.
    let signedLog (loss: float) : float =
        if Double.IsFinite loss then float (sign loss) * Math.Log10(1.0 + abs loss) else nan

    /// How many cells each optimizer won (every optimizer run, in the options' order; cells where all diverged are not counted).
    let wins (cells: NarrowingValleyCell list) : (ValleyOptimizer * int) list =
        match cells with
        | [] -> []
        | first :: _ ->
            [ for score in first.Scores ->
                  score.Optimizer, cells |> List.filter (fun cell -> hasWinner cell && cell.Winner = score.Optimizer) |> List.length ]

    /// An axis label: three significant digits without an exponent (0.316, 31.6, 1000).
    let private label (value: float) =
        value.ToString((if abs value >= 1000.0 then "F0" else "G3"), CultureInfo.InvariantCulture)

    /// The best mean final loss of <paramref name="optimizer"/> over the grid, coloured as <c>signedLog</c> (grey: diverged).
    let bestLossMap (title: string) (optimizer: ValleyOptimizer) (cells: NarrowingValleyCell list) : SvgHeatMap =
        let sharpnesses, noises = axes cells
        let options =
            HeatMapOptions(
                Title = title,
                RowAxisLabel = "sharpness a",
                ColumnAxisLabel = "noise sigma",
                ValueLabel = "sign(L) log10(1+|L|)",
                ShowValues = true,
                ValueFormat = "F1",
                CellWidth = 44,
                CellHeight = 30
            )
        Charts.grid options label label sharpnesses noises (fun sharpness noise -> signedLog (cellAt cells sharpness noise).[optimizer].BestLoss)

    /// Each cell coloured by its winner (the optimizer with the lowest best loss) and named; grey where every optimizer diverged.
    let winnerMap (title: string) (cells: NarrowingValleyCell list) : SvgHeatMap =
        let sharpnesses, noises = axes cells
        let optimizers = Enum.GetValues<ValleyOptimizer>()
        let grid = array2D [ for sharpness in sharpnesses -> [ for noise in noises -> cellAt cells sharpness noise ] ]
        let values = grid |> Array2D.map (fun cell -> if hasWinner cell then float (Array.IndexOf(optimizers, cell.Winner)) else nan)
        let names = grid |> Array2D.map (fun cell -> if hasWinner cell then string cell.Winner else "-")
        let legend = optimizers |> Array.mapi (fun index optimizer -> $"{index} {optimizer}") |> String.concat ", "
        let options =
            HeatMapOptions(
                Title = title,
                RowAxisLabel = "sharpness a",
                ColumnAxisLabel = "noise sigma",
                ValueLabel = legend,
                Minimum = Nullable 0.0,
                Maximum = Nullable(float (optimizers.Length - 1)),
                CellWidth = 52,
                CellHeight = 30
            )
        SvgHeatMap(values, List.map label sharpnesses, List.map label noises, options, names)

    /// The winners as a text grid: a row per sharpness (largest first), a column per noise level.
    let winnerTable (cells: NarrowingValleyCell list) : string =
        let sharpnesses, noises = axes cells
        let text = StringBuilder()
        let cellText (value: string) = value.PadLeft 7
        text.Append("a \\ sigma ").AppendLine(noises |> List.map (label >> cellText) |> String.concat "") |> ignore
        for sharpness in sharpnesses do
            let winners =
                noises
                |> List.map (fun noise ->
                    let cell = cellAt cells sharpness noise
                    cellText (if hasWinner cell then string cell.Winner else "-"))
            text.Append((label sharpness).PadRight 10).AppendLine(String.concat "" winners) |> ignore
        text.ToString()
