// The annealing loss law (arXiv 2408.11029) on real runs: pre-train a small GPT on the shipped Brown corpus under a
// constant learning rate and under a cosine, fit L(s) = L0 + A S1^-alpha - C S2 (S1: the area under the rate, S2: the
// annealing area with momentum) to those two validation curves, predict the curve of a warmup-stable-decay run from its
// schedule alone, and score the prediction by its mean absolute relative error (MARE) against the measured curve.
//
//   dotnet build src/Scripts -c Release
//   dotnet fsi src/Scripts/experiments/loss_law.fsx                          (full: about 6 minutes on 2 cores)
//   PIPELINES_BUDGET=tiny dotnet fsi src/Scripts/experiments/loss_law.fsx    (smoke run, well under a minute)
//
// Each model trains on one thread; PIPELINES_THREADS runs train at once (default: one per processor).
// Writes to $PIPELINES_OUTPUT, else artifacts/experiments/loss_law/ (the charts and summary.txt are LossLawReport's):
//   points.csv          every scored validation point: schedule, step, rate, measured, predicted, fitted, relative error
//   errors.csv          per schedule: fitted or predicted, points, mean absolute relative error (MARE), worst error
//                       (the points' Deedle frame grouped by schedule)
//   prediction.svg      measured and fitted/predicted validation loss of the three runs
//   prediction-wsd.svg  the WSD run alone: measured against predicted
//   schedules.svg       the three learning-rate schedules
//   summary.txt         the fitted parameters, the in-sample errors and the WSD prediction's errors

#load "prelude.fsx"

open Deedle
open Microsoft.ML
open Pipelines.Components.Compute
open Pipelines.Experiments
open Pipelines.Components.Models
open Pipelines.Components.Training
open Pipelines.Scripts
open System

let name = "loss_law"
let budget = Experiment.budget ()
let output = Experiment.outputDirectory name
Experiment.announce name budget
let pick tiny full = Experiment.pick budget tiny full

let context = MLContext(seed = 42)
let corpus = Corpus.brown context (pick 320 1024) (pick 30 Int32.MaxValue) (pick 4 Int32.MaxValue)
printfn "Brown: %d training and %d validation tokens, vocabulary %d" corpus.Training.Length corpus.Validation.Length corpus.VocabularySize

// The full budget is samples/LossLaw's model (3 blocks, width 96) at half its steps; the law is fitted on the
// validation losses measured every 25 steps (every 5 on the tiny budget).
let steps = pick 60L 1000L
let model =
    TransformerConfig(
        layerCount = pick 1 3,
        headCount = pick 2 4,
        channels = pick 32 96,
        contextLength = pick 32 64,
        vocabularySize = corpus.VocabularySize
    )
let training =
    LanguageModelTrainingOptions(
        BatchSize = pick 4 16,
        SequenceLength = pick 32 64,
        Steps = steps,
        EvaluationInterval = pick 5 25,
        EvaluationBatches = pick 2 8,
        Seed = 7UL
    )
let setup = PretrainingSetup(model, training, ModelSeed = 11UL, FinalEvaluationBatches = pick 4 64)
let options = LossLawExperimentOptions(setup, peakLearningRate = 3e-3)
let runsAtOnce = Experiment.threadCount ()
printfn
    "GPT %d blocks x %d wide; %A at peak %g; %d steps (%d warm-up), WSD decay over %O; lambda %g; fitted from step %d; %d run(s) at a time"
    model.LayerCount model.Channels options.Optimizer options.PeakLearningRate steps options.WarmupSteps options.WsdDecay
    options.MomentumDecay options.FirstFittedStep runsAtOnce

let result = LossLawExperiment.Run(options, corpus.Training, corpus.Validation, Parallelism runsAtOnce, Runs.progress ())

let points = Frames.ofRecords result.Points
Frames.saveCsv (IO.Path.Combine(output, "points.csv")) points

// The errors per schedule: the in-sample fit on constant and cosine, the out-of-sample prediction of WSD.
let errors =
    let bySchedule column (aggregate: Series<int, 'Value> -> 'Result) : Series<string, 'Result> =
        points |> Frame.aggregateRowsBy [ "Schedule" ] [ column ] aggregate |> Frame.indexRows "Schedule" |> Frame.getCol column
    Frame.ofColumns
        [ "Fitted", bySchedule "Fitted" (fun (fitted: Series<int, bool>) -> Seq.head fitted.Values) |> Series.mapValues box
          "Points", bySchedule "Step" (fun (steps: Series<int, int64>) -> steps.ValueCount) |> Series.mapValues box
          "MeanAbsoluteRelativeError", bySchedule "RelativeError" Stats.mean |> Series.mapValues box
          "WorstRelativeError", bySchedule "RelativeError" Stats.max |> Series.mapValues box ]
Frames.print errors
Frames.saveCsvWithKeys "Schedule" (IO.Path.Combine(output, "errors.csv")) errors

LossLawReport.Chart(result) |> Charts.save (IO.Path.Combine(output, "prediction.svg"))
LossLawReport.Chart(result, includeFittedRuns = false) |> Charts.save (IO.Path.Combine(output, "prediction-wsd.svg"))
LossLawReport.ScheduleChart(result) |> Charts.save (IO.Path.Combine(output, "schedules.svg"))
let summary = LossLawReport.Summary result
Runs.writeText output "summary.txt" (summary + "\n")

printfn ""
printfn "%s" summary
printfn
    "summary: WSD predicted from constant + cosine: MARE %.3f%% over %d points; last point %.4f measured vs %.4f predicted"
    (100.0 * result.WsdMeanAbsoluteRelativeError)
    (result.Points |> Seq.filter (fun point -> not point.Fitted) |> Seq.length)
    (result.Points |> Seq.filter (fun point -> not point.Fitted) |> Seq.last).Measured
    (result.Points |> Seq.filter (fun point -> not point.Fitted) |> Seq.last).Predicted
printfn "wrote points.csv, errors.csv, prediction.svg, prediction-wsd.svg, schedules.svg and summary.txt to %s" output
