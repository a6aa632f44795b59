namespace Pipelines.Scripts

open System
open Pipelines.Components.Reporting
open Pipelines.Components.Training
open Pipelines.FineTuning

/// SVG charts through the Components writers: loss curves (<see cref="T:Pipelines.Components.Reporting.SvgLineChart"/>)
/// and grids such as sweep results or confusion matrices (<see cref="T:Pipelines.Components.Reporting.SvgHeatMap"/>).
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

    /// A line chart of named series of (x, y) points.
    let line (options: LineChartOptions) (series: (string * (float * float) list) list) : SvgLineChart =
        (SvgLineChart options, series)
        ||> List.fold (fun chart (name, points) ->
            chart.AddSeries(name, points |> List.map fst |> Array.ofList, points |> List.map snd |> Array.ofList))

    /// The smoothing window <c>lossCurves</c> uses for runs of up to <paramref name="steps"/> steps: a fiftieth of the run.
    let lossWindow (steps: int) : int = max 1 (steps / 50)

    /// Training loss over steps for each named run (a trailing mean over a fiftieth of the longest run, since single
    /// batches are noisy), and its validation loss where it was measured, as "name (validation)".
    let lossCurves (title: string) (runs: (string * StepMetrics list) list) : SvgLineChart =
        let window = runs |> List.map (snd >> List.length) |> List.fold max 0 |> lossWindow
        let options =
            LineChartOptions(
                Title = title,
                XAxisLabel = "step",
                YAxisLabel = (if window > 1 then $"loss (training: mean of {window} steps)" else "loss")
            )
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
        line options series

    /// A heat map of <c>value row column</c> over the grid, rows top to bottom.
    let grid
        (options: HeatMapOptions)
        (rowLabel: 'Row -> string)
        (columnLabel: 'Column -> string)
        (rows: 'Row list)
        (columns: 'Column list)
        (value: 'Row -> 'Column -> float)
        : SvgHeatMap =
        let rowArray, columnArray = Array.ofList rows, Array.ofList columns
        let values = Array2D.init rowArray.Length columnArray.Length (fun row column -> value rowArray[row] columnArray[column])
        SvgHeatMap(values, Array.map rowLabel rowArray, Array.map columnLabel columnArray, options)

    /// The confusion matrix of a classifier: each cell coloured by its share of the label's rows (recall on the
    /// diagonal) and annotated with its count.
    let confusionMatrix (title: string) (metrics: ClassificationMetrics) : SvgHeatMap =
        let matrix = metrics.ConfusionMatrix
        let classCount = matrix.NumberOfClasses
        let share label predicted =
            match matrix.LabelCount label with
            | 0L -> nan
            | total -> float (matrix.GetCount(label, predicted)) / float total
        let values = Array2D.init classCount classCount share
        let counts = Array2D.init classCount classCount (fun label predicted -> string (matrix.GetCount(label, predicted)))
        let options =
            HeatMapOptions(
                Title = title,
                RowAxisLabel = "label",
                ColumnAxisLabel = "predicted",
                ValueLabel = "share of the label's rows",
                Minimum = Nullable 0.0,
                Maximum = Nullable 1.0
            )
        SvgHeatMap(values, metrics.ClassNames, metrics.ClassNames, options, counts)

    /// Writes a chart (anything with <c>WriteTo: string -> unit</c>, such as SvgLineChart or SvgHeatMap) to an SVG file.
    let inline save (path: string) (chart: ^Chart) : unit =
        (^Chart: (member WriteTo: string -> unit) (chart, path))
