namespace Pipelines.Scripts

open System
open System.IO
open Microsoft.ML.Data
open Pipelines.Components.Training
open Pipelines.Experiments
open ScottPlot

/// Charts through ScottPlot: line charts of named series (loss curves, N(t), ...) and heat maps (sweeps, confusion
/// matrices), saved as SVG and PNG side by side. A chart is a <c>ScottPlot.Plot</c>, which F# creates with
/// <c>new</c> (it is disposable): dispose it when done inside a function; at the top level of a script, a <c>let</c>
/// is enough.
[<RequireQualifiedAccess>]
module Charts =
    /// The trailing mean of each value and the <c>window - 1</c> before it (fewer at the start); NaN values are skipped.
    /// <exception cref="System.ArgumentOutOfRangeException">A window below 1.</exception>
    let smooth (window: int) (values: float list) : float list =
        if window < 1 then raise (ArgumentOutOfRangeException(nameof window, window, "Must be at least 1."))
        let items = Array.ofList values
        [ for index in 0 .. items.Length - 1 do
              let finite = items[max 0 (index - window + 1) .. index] |> Array.filter Double.IsFinite
              if finite.Length = 0 then nan else Array.average finite ]

    /// An empty chart with a title and axis labels.
    let create (title: string) (xLabel: string) (yLabel: string) : Plot =
        let plot = new Plot()
        plot.Title(title)
        plot.XLabel(xLabel)
        plot.YLabel(yLabel)
        plot

    /// A line chart of named series of (x, y) points, with a legend.
    let line (title: string) (xLabel: string) (yLabel: string) (series: (string * (float * float) list) list) : Plot =
        let plot = create title xLabel yLabel
        for name, points in series do
            let scatter = plot.Add.ScatterLine(points |> List.map fst |> Array.ofList, points |> List.map snd |> Array.ofList)
            scatter.LegendText <- name
        plot.ShowLegend(Alignment.UpperRight) |> ignore
        plot

    /// The smoothing window <c>lossCurves</c> uses for runs of up to <paramref name="steps"/> steps: a fiftieth of the run.
    let lossWindow (steps: int) : int = max 1 (steps / 50)

    /// Training loss over steps for each named run (a trailing mean over a fiftieth of the longest run, since single
    /// batches are noisy), and its validation loss where it was measured, as "name (validation)".
    let lossCurves (title: string) (runs: (string * StepMetrics list) list) : Plot =
        let window = runs |> List.map (snd >> List.length) |> List.fold max 0 |> lossWindow
        let series =
            [ for name, history in runs do
                  let steps = history |> List.map (fun metrics -> float metrics.Step)
                  let training = history |> List.map (fun metrics -> metrics.TrainingLoss) |> smooth window
                  yield name, List.zip steps training
                  let validation =
                      [ for metrics in history do
                            if metrics.ValidationLoss.HasValue then
                                yield float metrics.Step, metrics.ValidationLoss.Value ]
                  if not validation.IsEmpty then
                      yield $"{name} (validation)", validation ]
        let yLabel = if window > 1 then $"loss (training: mean of {window} steps)" else "loss"
        line title "step" yLabel series

    /// A heat map of <paramref name="values"/> (row 0 at the top) with labelled rows and columns, a colour bar named
    /// <paramref name="valueLabel"/>, and optionally a text in each cell; NaN cells are grey.
    /// <exception cref="System.ArgumentException">Labels or texts that do not match the values' shape.</exception>
    let heatMapWith
        (title: string)
        (rowLabels: string list)
        (columnLabels: string list)
        (valueLabel: string)
        (range: (float * float) option)
        (cellTexts: string[,] option)
        (values: float[,])
        : Plot =
        let manualRange = range |> Option.map (fun (minimum, maximum) -> Range(minimum, maximum)) |> Option.toNullable
        ExperimentChart.HeatMap(title, values, rowLabels, columnLabels, "", "", valueLabel, Option.toObj cellTexts, manualRange)

    /// A heat map of <c>value row column</c> over a grid (such as a sweep), rows top to bottom.
    let grid
        (title: string)
        (valueLabel: string)
        (rowLabel: 'Row -> string)
        (columnLabel: 'Column -> string)
        (rows: 'Row list)
        (columns: 'Column list)
        (value: 'Row -> 'Column -> float)
        : Plot =
        let rowArray, columnArray = Array.ofList rows, Array.ofList columns
        Array2D.init rowArray.Length columnArray.Length (fun row column -> value rowArray[row] columnArray[column])
        |> heatMapWith title (List.map rowLabel rows) (List.map columnLabel columns) valueLabel None None

    /// The confusion matrix of ML.NET's multiclass metrics: each cell coloured by its share of the label's rows
    /// (recall on the diagonal) and annotated with its count; <paramref name="classNames"/> in key order (the
    /// classifier's <c>ClassNames</c>).
    let confusionMatrix (title: string) (classNames: string list) (metrics: MulticlassClassificationMetrics) : Plot =
        let counts = metrics.ConfusionMatrix.Counts
        let classCount = counts.Count
        let share label predicted =
            match Seq.sum counts[label] with
            | 0.0 -> nan
            | total -> counts[label][predicted] / total
        let texts = Array2D.init classCount classCount (fun label predicted -> string (int64 (counts[label][predicted])))
        let plot =
            Array2D.init classCount classCount share
            |> heatMapWith title classNames classNames "share of the label's rows" (Some(0.0, 1.0)) (Some texts)
        plot.XLabel("predicted")
        plot.YLabel("label")
        plot

    /// Saves the chart as <paramref name="width"/> x <paramref name="height"/> pixels to an SVG file and a PNG file
    /// beside it: <paramref name="path"/> with its extension replaced by <c>.svg</c> and <c>.png</c> (directory created).
    let saveWith (width: int) (height: int) (path: string) (plot: Plot) : unit =
        ExperimentChart.Save(plot, Path.ChangeExtension(path, null) |> string, width, height) |> ignore

    /// Saves the chart at 900 x 550 pixels as SVG and PNG (see <c>saveWith</c>).
    let save (path: string) (plot: Plot) : unit = saveWith 900 550 path plot

