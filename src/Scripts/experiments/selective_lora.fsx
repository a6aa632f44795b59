// Analyses the selective-LoRA comparison that samples/LayerDiagnostics runs (arXiv 2511.00797): reads its runs.csv and
// sources.csv into Deedle frames, pairs every LoRA run with the full fine-tuning run of the same source and seed, and asks
// the paper's question: does LoRA at the inflection layers close the gap to full fine-tuning for an over-trained source
// and widen it for an under-trained one?
//
//   dotnet run -c Release --project samples/LayerDiagnostics -- experiment          (writes runs/selective-lora/)
//   dotnet build src/Scripts -c Release
//   PIPELINES_INPUT=runs/selective-lora dotnet fsi src/Scripts/experiments/selective_lora.fsx
//
// Reads $PIPELINES_INPUT (default runs/selective-lora); writes to $PIPELINES_OUTPUT, else artifacts/experiments/selective_lora/:
//   summary.csv           per source and method: runs, mean and sd of accuracy and macro-F1, trainable parameters, seconds
//   gaps.csv              per source and LoRA method: mean and sd over seeds of (LoRA - full) accuracy and macro-F1
//   gaps.svg, .png        those gaps as bars, one group per source state
//   finding.txt           the paper's finding, checked against the gaps

#load "prelude.fsx"

open Deedle
open Pipelines.Scripts
open System
open System.IO

let name = "selective_lora"
let budget = Experiment.budget ()
let output = Experiment.outputDirectory name
Experiment.announce name budget
let input =
    match Environment.GetEnvironmentVariable "PIPELINES_INPUT" with
    | null | "" -> Path.Combine(Experiment.repositoryRoot (), "runs", "selective-lora")
    | path -> path
let runsPath = Path.Combine(input, "runs.csv")
if not (File.Exists runsPath) then
    failwithf "%s not found: run 'dotnet run -c Release --project samples/LayerDiagnostics -- experiment' first (or set PIPELINES_INPUT)." runsPath

let runs = Frame.ReadCsv(runsPath, inferTypes = true)
let sources = Frame.ReadCsv(Path.Combine(input, "sources.csv"), inferTypes = true)
printfn "Sources (Brown genres):"
Frames.print sources

let full = "full fine-tuning"
let text (row: ObjectSeries<string>) column = row.GetAs<string> column
let number (row: ObjectSeries<string>) column = row.GetAs<float> column
let rows = runs.Rows |> Series.values |> List.ofSeq

let mean (values: float list) = List.average values
let sd (values: float list) =
    match values with
    | [] | [ _ ] -> 0.0
    | _ ->
        let m = mean values
        sqrt ((values |> List.sumBy (fun value -> (value - m) ** 2.0)) / float (values.Length - 1))

type Summary =
    { Source: string; Method: string; Runs: int; Accuracy: float; AccuracySd: float; MacroF1: float; MacroF1Sd: float; TrainableParameters: float; Seconds: float }

let summary =
    rows
    |> List.groupBy (fun row -> text row "Source", text row "Method")
    |> List.map (fun ((source, method), group) ->
        let accuracy = group |> List.map (fun row -> number row "Accuracy")
        let f1 = group |> List.map (fun row -> number row "MacroF1")
        { Source = source; Method = method; Runs = group.Length; Accuracy = mean accuracy; AccuracySd = sd accuracy; MacroF1 = mean f1; MacroF1Sd = sd f1
          TrainableParameters = group |> List.averageBy (fun row -> number row "TrainableParameters")
          Seconds = group |> List.averageBy (fun row -> number row "Seconds") })
let summaryFrame = Frames.ofRecords summary
Frames.saveCsv (Path.Combine(output, "summary.csv")) summaryFrame
printfn "\nPer source and method (mean and sd over seeds):"
Frames.print summaryFrame

// Paired by seed: the same source, seed and data, only the adaptation differs.
type Gap = { Source: string; Method: string; Pairs: int; AccuracyGap: float; AccuracyGapSd: float; MacroF1Gap: float; MacroF1GapSd: float }

let fullBy =
    rows
    |> List.filter (fun row -> text row "Method" = full)
    |> List.map (fun row -> (text row "Source", int (number row "Seed")), row)
    |> Map.ofList
let gaps =
    rows
    |> List.filter (fun row -> text row "Method" <> full)
    |> List.groupBy (fun row -> text row "Source", text row "Method")
    |> List.map (fun ((source, method), group) ->
        let pairs = group |> List.choose (fun row -> fullBy |> Map.tryFind (source, int (number row "Seed")) |> Option.map (fun baseline -> row, baseline))
        let accuracy = pairs |> List.map (fun (row, baseline) -> number row "Accuracy" - number baseline "Accuracy")
        let f1 = pairs |> List.map (fun (row, baseline) -> number row "MacroF1" - number baseline "MacroF1")
        { Source = source; Method = method; Pairs = pairs.Length; AccuracyGap = mean accuracy; AccuracyGapSd = sd accuracy; MacroF1Gap = mean f1; MacroF1GapSd = sd f1 })
let gapFrame = Frames.ofRecords gaps
Frames.saveCsv (Path.Combine(output, "gaps.csv")) gapFrame
printfn "\nLoRA minus full fine-tuning, paired by seed:"
Frames.print gapFrame

let plot = Charts.create "LoRA minus full fine-tuning on spam (mean ± sd over seeds)" "source state" "accuracy gap"
let sourceNames = gaps |> List.map (fun gap -> gap.Source) |> List.distinct
let methodNames = gaps |> List.map (fun gap -> gap.Method) |> List.distinct
methodNames
|> List.iteri (fun methodIndex method ->
    let bars =
        [ for sourceIndex, source in List.indexed sourceNames do
              match gaps |> List.tryFind (fun gap -> gap.Source = source && gap.Method = method) with
              | Some gap ->
                  ScottPlot.Bar(
                      Position = float (sourceIndex * (methodNames.Length + 1) + methodIndex),
                      Value = gap.AccuracyGap,
                      Error = gap.AccuracyGapSd,
                      FillColor = ScottPlot.Palettes.Category10().GetColor(methodIndex))
              | None -> () ]
    let series = plot.Add.Bars(Array.ofList bars)
    series.LegendText <- method)
plot.Axes.Bottom.TickGenerator <-
    ScottPlot.TickGenerators.NumericManual(
        [| for index in 0 .. sourceNames.Length - 1 -> float (index * (methodNames.Length + 1)) + float (methodNames.Length - 1) / 2.0 |],
        Array.ofList sourceNames)
plot.Add.HorizontalLine(0.0) |> ignore
plot.ShowLegend() |> ignore
Charts.save (Path.Combine(output, "gaps.svg")) plot

let selectiveGap source = gaps |> List.tryFind (fun gap -> gap.Source = source && gap.Method = "selective LoRA")
let finding =
    match selectiveGap "over-trained", selectiveGap "under-trained" with
    | Some over, Some under ->
        let difference = over.AccuracyGap - under.AccuracyGap
        let spread = max over.AccuracyGapSd under.AccuracyGapSd
        let verdict =
            if abs difference <= spread || over.Pairs < 2 then
                sprintf "the difference (%+.4f) is within the seed-to-seed spread of the gaps (sd up to %.4f, %d seeds): neither reproduced nor refuted at this scale" difference spread over.Pairs
            elif difference > 0.0 then "consistent with the paper: relative to full fine-tuning, selective LoRA fares better on the over-trained source"
            else "the opposite of the paper: relative to full fine-tuning, selective LoRA fares worse on the over-trained source"
        sprintf "Selective LoRA minus full fine-tuning, accuracy: over-trained source %+.4f (sd %.4f), under-trained source %+.4f (sd %.4f); %s." over.AccuracyGap over.AccuracyGapSd under.AccuracyGap under.AccuracyGapSd verdict
    | _ -> "The runs lack a selective-LoRA or full fine-tuning run for one of the source states."
File.WriteAllText(Path.Combine(output, "finding.txt"), finding + "\n")
printfn "\n%s" finding
printfn "Wrote summary.csv, gaps.csv, gaps.svg/.png and finding.txt to %s" output
