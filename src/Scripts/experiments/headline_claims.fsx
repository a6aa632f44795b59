// The README's headline claims on Brown, measured fairly (issue 13), over the public API of Pipelines.Experiments:
//   optimizers: FOCUS (arXiv 2501.12243) vs AdamW vs Signum with the same number of random-search trials each, the
//               best of each at fresh seeds and two sizes, all under one WSD schedule at equal tokens;
//   schedules:  cosine tuned to each of three budgets vs one WSD run with decays branched at each budget
//               (arXiv 2404.06395) vs one WSD-S run (arXiv 2410.05192), and the annealing loss law (arXiv 2408.11029)
//               fitted on the cosine runs predicting the others.
//
//   dotnet build src/Scripts -c Release
//   dotnet fsi src/Scripts/experiments/headline_claims.fsx                          (full: 600 and 640 steps, 3 seeds)
//   PIPELINES_BUDGET=tiny dotnet fsi src/Scripts/experiments/headline_claims.fsx    (smoke run, about a minute)
//
// samples/HeadlineClaims runs the same experiments with command-line options. PIPELINES_THREADS runs train at once.
// Writes to $PIPELINES_OUTPUT, else artifacts/experiments/headline_claims/: the C# reports' files
// (OptimizerTuningReport, ScheduleComparisonReport) and two Deedle frames aggregated here:
//   optimizer-seeds-frame.csv   per size and optimizer: mean, sd, min and max of the final loss over seeds
//   schedule-finals-frame.csv   per schedule and budget: mean, sd, min and max of the final loss over seeds

#load "prelude.fsx"

open Deedle
open Microsoft.ML
open Pipelines.Components.Models
open Pipelines.Components.Training
open Pipelines.Experiments
open Pipelines.Scripts
open System
open System.IO

let name = "headline_claims"
let budget = Experiment.budget ()
let output = Experiment.outputDirectory name
Experiment.announce name budget
let pick tiny full = Experiment.pick budget tiny full
let threads = Experiment.threadCount ()

let context = MLContext(seed = 42)
let corpus = Corpus.brown context (pick 320 1024) (pick 30 Int32.MaxValue) (pick 4 Int32.MaxValue)
printfn "Brown: %d training and %d validation tokens, vocabulary %d" corpus.Training.Length corpus.Validation.Length corpus.VocabularySize

let model layers channels =
    TransformerConfig(layerCount = layers, headCount = 4, channels = channels, contextLength = 64, vocabularySize = corpus.VocabularySize)
let setup (config: TransformerConfig) steps interval =
    let training =
        LanguageModelTrainingOptions(BatchSize = 16, SequenceLength = 64, Steps = steps, EvaluationInterval = interval, EvaluationBatches = pick 2 8, Seed = 7UL)
    PretrainingSetup(config, training, ModelSeed = 11UL, FinalEvaluationBatches = pick 4 64)

/// The statistics of one group of a frame's FinalValidationLoss column.
let statistics (losses: Series<int, float>) =
    let values = losses.Values |> Array.ofSeq
    let mean = Array.average values
    let sd = if values.Length < 2 then 0.0 else sqrt ((values |> Array.sumBy (fun value -> (value - mean) ** 2.0)) / float (values.Length - 1))
    mean, sd, Array.min values, Array.max values

/// Aggregates a frame of runs by <paramref name="keys"/> into mean, sd, min and max of FinalValidationLoss.
let summarise (keys: string list) (runs: Frame<int, string>) =
    let aggregate pickStatistic =
        runs |> Frame.aggregateRowsBy keys [ "FinalValidationLoss" ] (fun (losses: Series<int, float>) -> pickStatistic (statistics losses))
    let frame = aggregate (fun (mean, _, _, _) -> mean) |> Frame.renameCol "FinalValidationLoss" "Mean"
    frame?StandardDeviation <- aggregate (fun (_, sd, _, _) -> sd) |> Frame.getCol "FinalValidationLoss"
    frame?Minimum <- aggregate (fun (_, _, low, _) -> low) |> Frame.getCol "FinalValidationLoss"
    frame?Maximum <- aggregate (fun (_, _, _, high) -> high) |> Frame.getCol "FinalValidationLoss"
    frame

// Optimizers: tuning at the small size, then the best at fresh seeds and both sizes.
let optimizerSteps = pick 30L 600L
let small = model (pick 1 2) (pick 32 64)
let tuningOptions =
    OptimizerTuningOptions(
        setup small optimizerSteps (int optimizerSteps / 10),
        [| ModelSize.Of small; ModelSize.Of(model (pick 1 3) (pick 48 96)) |],
        Trials = pick 2 8,
        Seeds = pick 2 3,
        TimingSteps = pick 2 20
    )
let tuning = OptimizerTuningExperiment.Run(tuningOptions, corpus.Training, corpus.Validation, threads, Runs.progress ())
OptimizerTuningReport.Write(tuning, output) |> ignore

type SeedRow = { Size: string; Optimizer: string; Seed: int; FinalValidationLoss: float }
let optimizerFrame =
    [ for run in tuning.Confirmations -> { Size = run.Size; Optimizer = run.Setting.Name; Seed = run.Seed; FinalValidationLoss = run.Run.FinalValidationLoss } ]
    |> Frames.ofRecords
    |> summarise [ "Size"; "Optimizer" ]
Frames.saveCsv (Path.Combine(output, "optimizer-seeds-frame.csv")) optimizerFrame
printfn "Optimizers, final validation loss over seeds %s:" (String.Join(", ", [ 1 .. tuningOptions.Seeds ]))
Frames.print optimizerFrame

// Schedules: budgets T/4 < T/2 < T, evaluated every T/16 steps.
let scheduleBudget = pick 64L 640L
let scheduleOptions =
    ScheduleComparisonOptions(
        setup small scheduleBudget (int scheduleBudget / 16),
        [| scheduleBudget / 4L; scheduleBudget / 2L; scheduleBudget |],
        Seeds = pick 2 3,
        PeakLearningRates = pick [| 3e-3; 8e-3 |] [| 2e-3; 4e-3; 8e-3 |]
    )
let scheduleProgress =
    { new IProgress<ScheduleRun> with
        member _.Report run = printfn "%s | seed %d | T %d | %.4f" run.Schedule run.Seed run.Budget run.FinalValidationLoss }
let schedules = ScheduleComparisonExperiment.Run(scheduleOptions, corpus.Training, corpus.Validation, threads, scheduleProgress)
ScheduleComparisonReport.Write(schedules, output) |> ignore

type FinalRow = { Schedule: string; Budget: int64; Seed: int; FinalValidationLoss: float }
let scheduleFrame =
    [ for run in schedules.Runs -> { Schedule = run.Schedule; Budget = run.Budget; Seed = run.Seed; FinalValidationLoss = run.FinalValidationLoss } ]
    |> Frames.ofRecords
    |> summarise [ "Budget"; "Schedule" ]
Frames.saveCsv (Path.Combine(output, "schedule-finals-frame.csv")) scheduleFrame
printfn "Schedules, final validation loss over seeds:"
Frames.print scheduleFrame

printf "%s" (OptimizerTuningReport.Markdown tuning)
printf "%s" (ScheduleComparisonReport.Markdown schedules)
printfn "wrote the optimizer and schedule reports and both frames to %s" output
